import json
import multiprocessing

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import ReservationLedger, ledger_text


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_reservations_persist_until_ttl(tmp_path):
    clock = Clock()
    ledger = ReservationLedger(str(tmp_path), ttl=60, clock=clock)
    with ledger.session() as session:
        session.reserve("instance_ids", "uuid-a", 7)
    with ledger.session() as session:
        assert session.reserved("instance_ids") == {"uuid-a": 7}
    clock.now += 61
    with ledger.session() as session:
        assert session.reserved("instance_ids") == {}


def test_check_mode_session_saves_nothing(tmp_path):
    ledger = ReservationLedger(str(tmp_path))
    with ledger.session(write=False) as session:
        session.reserve("fixed_ips", "u", "10.1.0.2")
    with ledger.session() as session:
        assert session.reserved("fixed_ips") == {}


def test_check_mode_session_creates_nothing_not_even_the_lock_or_directory(tmp_path):
    state_dir = tmp_path / "state"
    with ReservationLedger(str(state_dir)).session(write=False) as session:
        session.reserve("fixed_ips", "u", "10.1.0.2")
    assert not state_dir.exists()
    with ReservationLedger(str(state_dir)).session() as session:
        session.reserve("fixed_ips", "u", "10.1.0.2")
    with ReservationLedger(str(state_dir)).session(write=False) as session:
        assert session.reserved("fixed_ips") == {"u": "10.1.0.2"}


def test_forget(tmp_path):
    ledger = ReservationLedger(str(tmp_path))
    with ledger.session() as session:
        session.reserve("k", "a", 1)
    with ledger.session() as session:
        session.forget("k", "a")
    with ledger.session() as session:
        assert session.reserved("k") == {}


def test_corrupt_ledger_says_what_to_do(tmp_path):
    (tmp_path / "reservations.json").write_text("{")
    with pytest.raises(NovaliteError, match="remove it"):
        with ReservationLedger(str(tmp_path)).session():
            pass


def _take_next(state_dir, results):
    ledger = ReservationLedger(state_dir)
    with ledger.session() as session:
        taken = session.reserved("ids")
        value = max(list(taken.values()) + [0]) + 1
        session.reserve("ids", "p%d-%d" % (multiprocessing.current_process().pid, value), value)
    results.put(value)


def test_concurrent_sessions_never_hand_out_the_same_value(tmp_path):
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_take_next, args=(str(tmp_path), results)) for _p in range(8)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    values = sorted(results.get(timeout=5) for _p in procs)
    assert values == list(range(1, 9))


def test_the_ledger_is_json_with_one_reservation_a_line(tmp_path):
    clock = Clock()
    ledger = ReservationLedger(str(tmp_path), ttl=60, clock=clock)
    with ledger.session() as session:
        session.reserve("fixed_ips/n1", "b", {"address": "10.1.0.3", "mac": "fa:16:3e:00:00:01"})
        session.reserve("fixed_ips/n1", "a", {"address": "10.1.0.2"})
        session.reserve("instance_ids", "a", 7)
        session.forget("instance_ids", "a")
    text = (tmp_path / "reservations.json").read_text()
    assert json.loads(text) == {"fixed_ips/n1": {"a": {"value": {"address": "10.1.0.2"}, "expires": 1060.0},
                                                 "b": {"value": {"address": "10.1.0.3", "mac": "fa:16:3e:00:00:01"},
                                                       "expires": 1060.0}},
                                "instance_ids": {}}
    assert text.splitlines() == [
        "{", ' "fixed_ips/n1": {',
        '  "a": {"expires": 1060.0, "value": {"address": "10.1.0.2"}},',
        '  "b": {"expires": 1060.0, "value": {"address": "10.1.0.3", "mac": "fa:16:3e:00:00:01"}}',
        " },", ' "instance_ids": {}', "}"]
    assert ledger_text({}) == "{}\n"


def test_a_session_that_only_reads_leaves_the_file_as_it_was(tmp_path):
    clock = Clock()
    ledger = ReservationLedger(str(tmp_path), ttl=60, clock=clock)
    with ledger.session() as session:
        session.reserve("k", "a", [1, 2])
    before = (tmp_path / "reservations.json").stat().st_mtime_ns
    with ledger.session() as session:
        assert session.reserved("k") == {"a": [1, 2]}
        session.forget("k", "nothing")
    assert (tmp_path / "reservations.json").stat().st_mtime_ns == before
