import json
import multiprocessing

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import (
    SCHEMA_VERSION, FactsStore, check_document, empty_document, parse_document)


@pytest.fixture
def store(tmp_path):
    return FactsStore(str(tmp_path / "facts.d" / "novalite.fact"), lock_timeout=10)


def test_missing_file_reads_as_empty_document(store):
    assert store.load() == empty_document()


def test_round_trip_writes_json_with_schema_version(store):
    with store.transaction() as tx:
        tx.document["fixed_ips"]["10.1.0.2"] = {"mac": "fa:16:3e:00:00:01"}
    on_disk = json.loads(open(store.path).read())
    assert on_disk["schema_version"] == SCHEMA_VERSION
    assert store.load()["fixed_ips"] == {"10.1.0.2": {"mac": "fa:16:3e:00:00:01"}}


def test_unchanged_transaction_does_not_write(store):
    with store.transaction() as tx:
        pass
    assert not tx.changed
    with pytest.raises(FileNotFoundError):
        open(store.path)


def test_check_mode_transaction_reports_change_but_writes_nothing(store):
    with store.transaction(write=False) as tx:
        tx.document["instances"]["u1"] = {"name": "instance-00000001"}
    assert tx.changed
    assert tx.before["instances"] == {}
    assert store.load()["instances"] == {}


def test_check_mode_transaction_creates_nothing_not_even_the_lock_or_directory(store, tmp_path):
    with store.transaction(write=False) as tx:
        tx.document["instances"]["u1"] = {}
    assert list(tmp_path.iterdir()) == []
    with store.transaction() as tx:
        tx.document["instances"]["u1"] = {"name": "instance-00000001"}
    with store.transaction(write=False) as tx:
        assert tx.before["instances"] == {"u1": {"name": "instance-00000001"}}
        tx.document["instances"].clear()
    assert store.load()["instances"] == {"u1": {"name": "instance-00000001"}}


def test_exception_inside_transaction_leaves_file_untouched(store):
    with store.transaction() as tx:
        tx.document["networks"]["n1"] = {"label": "private"}
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.document["networks"] = {}
            raise RuntimeError("boom")
    assert store.load()["networks"] == {"n1": {"label": "private"}}


def test_corrupt_file_is_refused_not_reset(store, tmp_path):
    (tmp_path / "facts.d").mkdir(exist_ok=True)
    open(store.path, "w").write("{not json")
    with pytest.raises(NovaliteError, match="not valid JSON"):
        store.load()


def test_newer_schema_is_refused(store, tmp_path):
    (tmp_path / "facts.d").mkdir(exist_ok=True)
    open(store.path, "w").write(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(NovaliteError, match="schema_version"):
        store.load()


def _append_many(path, worker, count):
    store = FactsStore(path, lock_timeout=60)
    for i in range(count):
        with store.transaction() as tx:
            tx.document["fixed_ips"]["%d-%d" % (worker, i)] = {"n": len(tx.document["fixed_ips"])}


def test_concurrent_writers_lose_no_update(store):
    workers, each = 4, 25
    procs = [multiprocessing.Process(target=_append_many, args=(store.path, w, each)) for w in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    document = store.load()
    assert len(document["fixed_ips"]) == workers * each
    # each writer saw every earlier write: the counts it recorded are all distinct
    assert sorted(v["n"] for v in document["fixed_ips"].values()) == list(range(workers * each))


def test_parse_document_of_nothing_is_an_empty_document():
    assert parse_document(None) == empty_document()
    assert parse_document("  \n") == empty_document()


def test_parse_document_refuses_what_is_not_an_object():
    with pytest.raises(NovaliteError, match="^facts.json does not hold a JSON object$"):
        parse_document("[1]", origin="facts.json")


def test_check_document_adds_missing_sections_without_touching_the_given_dict():
    networks = {"n1": {"label": "private"}}
    given = {"schema_version": SCHEMA_VERSION, "networks": networks}
    checked = check_document(given, origin="hostvars")
    assert checked == {"schema_version": SCHEMA_VERSION, "networks": networks, "fixed_ips": {}, "instances": {},
                       "floating_ips": {}, "floating_associations": {}}
    assert given == {"schema_version": SCHEMA_VERSION, "networks": {"n1": {"label": "private"}}}
    assert networks == {"n1": {"label": "private"}}


@pytest.mark.parametrize("document, message", [
    ("text", "^hostvars does not hold a JSON object$"),
    ({}, "^hostvars has schema_version None; this novalite.compute understands up to %d$" % SCHEMA_VERSION),
    ({"schema_version": SCHEMA_VERSION + 1}, "^hostvars has schema_version %d; " % (SCHEMA_VERSION + 1)),
])
def test_check_document_refuses_with_the_parse_messages(document, message):
    with pytest.raises(NovaliteError, match=message):
        check_document(document, origin="hostvars")


def test_transaction_document_shares_nothing_with_before(store):
    with store.transaction() as tx:
        tx.document["networks"]["n1"] = {"label": "private", "reserved": []}
    with store.transaction(write=False) as tx:
        tx.document["networks"]["n1"]["reserved"].append("10.1.0.9")
    assert tx.changed and tx.before["networks"]["n1"]["reserved"] == []
