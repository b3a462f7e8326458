import errno
from types import SimpleNamespace

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common import facts_store
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import (
    ACTIVE, BUILDING, DELETED, ERROR, RUNNING, ensure_records, live_records, new_record, records_of, record_in_state)

WANTED = {"uuid": "u1", "name": "instance-00000001", "flavor": {"vcpus": 1, "memory_mb": 512}, "host": "compute1"}


def test_building_records_the_host():
    record = record_in_state(None, WANTED, BUILDING, "t0")
    assert record["vm_state"] == BUILDING and record["host"] == "compute1" and record["task_state"] == "spawning"


def test_active_sets_launched_at_once_and_network_info():
    building = record_in_state(None, WANTED, BUILDING, "t0")
    active = record_in_state(building, {"uuid": "u1"}, ACTIVE, "t1", network_info=[{"address": "fa:16:3e:00:00:01"}])
    assert (active["vm_state"], active["power_state"], active["launched_at"]) == (ACTIVE, RUNNING, "t1")
    again = record_in_state(active, {"uuid": "u1"}, ACTIVE, "t2")
    assert again == active


def test_active_never_goes_back_to_building():
    active = record_in_state(record_in_state(None, WANTED, BUILDING, "t0"), {"uuid": "u1"}, ACTIVE, "t1")
    assert record_in_state(active, WANTED, BUILDING, "t2") == active


def test_error_keeps_the_fault():
    building = record_in_state(None, WANTED, BUILDING, "t0")
    record = record_in_state(building, {"uuid": "u1"}, ERROR, "t1", fault="spawn failed")
    assert record["vm_state"] == ERROR and record["fault"] == "spawn failed"


def test_records_of_collects_every_host():
    documents = {"c1": {"instances": {"a": new_record(uuid="a")}}, "c2": {"instances": {}}, "c3": None}
    assert [r["uuid"] for r in records_of(documents)] == ["a"]


def test_live_records_leave_out_only_deleted_ones():
    records = [{"uuid": "a", "vm_state": ACTIVE}, {"uuid": "b", "vm_state": DELETED}, {"uuid": "c"},
               {"uuid": "d", "vm_state": ERROR}]
    assert [r["uuid"] for r in live_records(records)] == ["a", "c", "d"]


UUID = "8383fb3d-7dcf-4203-b639-14c617b55259"
WHOLE = {"uuid": UUID, "name": "instance-00000001", "display_name": "web", "flavor": {"vcpus": 1, "memory_mb": 512}}


def records_module(tmp_path, instances, vm_state, check_mode=False, **params):
    values = {"instances": instances, "vm_state": vm_state, "host": "compute1", "network_info": {}, "fault": None,
              "facts_path": str(tmp_path / "novalite.fact")}
    values.update(params)
    return SimpleNamespace(params=values, check_mode=check_mode)


def stored(tmp_path):
    return FactsStore(str(tmp_path / "novalite.fact")).load()["instances"]


def test_the_module_records_moves_and_removes_a_batch(tmp_path):
    checked = ensure_records(records_module(tmp_path, [WHOLE], BUILDING, check_mode=True))
    assert checked["changed"] and stored(tmp_path) == {}
    assert ensure_records(records_module(tmp_path, [WHOLE], BUILDING))["changed"]
    active = ensure_records(records_module(tmp_path, [{"uuid": UUID.upper()}], ACTIVE))
    assert active["instances"][0]["vm_state"] == ACTIVE and list(stored(tmp_path)) == [UUID]
    assert ensure_records(records_module(tmp_path, [{"uuid": UUID}], ACTIVE))["changed"] is False
    removed = ensure_records(records_module(tmp_path, [{"uuid": UUID}], "absent"))
    assert removed["instances"] == [] and removed["diff"]["before"][UUID]["vm_state"] == ACTIVE
    assert stored(tmp_path) == {}


def test_local_facts_give_the_document_as_setup_would_read_it_next(tmp_path):
    assert "ansible_facts" not in ensure_records(records_module(tmp_path, [WHOLE], BUILDING))
    checked = ensure_records(records_module(tmp_path, [{"uuid": UUID}], ACTIVE, check_mode=True, local_facts=True))
    assert checked["ansible_facts"]["ansible_local"]["novalite"]["instances"][UUID]["vm_state"] == BUILDING
    active = ensure_records(records_module(tmp_path, [{"uuid": UUID}], ACTIVE, local_facts=True))
    document = active["ansible_facts"]["ansible_local"]["novalite"]
    assert document == FactsStore(str(tmp_path / "novalite.fact")).load()
    assert document["instances"][UUID]["vm_state"] == ACTIVE


@pytest.mark.parametrize("record, vm_state, message", [
    ({"uuid": "u1"}, ACTIVE, r"instances\[0\].uuid 'u1': expected a UUID"),
    ({}, "absent", r"instances\[0\] has no uuid"),
    ({"uuid": UUID}, BUILDING, "needs the whole record"),
    (dict(WHOLE, name="../etc"), BUILDING, r"instances\[0\].name '../etc'"),
    (dict(WHOLE, display_name="a\nb"), BUILDING, r"instances\[0\].display_name .*one line"),
], ids=["uuid", "no uuid", "partial building record", "instance name", "display name"])
def test_bad_records_are_refused_before_the_facts_are_touched(tmp_path, record, vm_state, message):
    with pytest.raises(InvalidInput, match=message):
        ensure_records(records_module(tmp_path, [record], vm_state))
    assert not (tmp_path / "novalite.fact").exists()


def test_moving_an_unrecorded_instance_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="instance %s is not recorded on this host" % UUID):
        ensure_records(records_module(tmp_path, [{"uuid": UUID}], ERROR, fault="boom"))


def test_check_mode_of_a_whole_run_takes_the_building_call_before_as_recorded(tmp_path):
    with pytest.raises(InvalidInput, match="is not recorded on this host"):
        ensure_records(records_module(tmp_path, [WHOLE], ACTIVE, check_mode=True))
    active = ensure_records(records_module(tmp_path, [WHOLE], ACTIVE, check_mode=True, assume_prepared=True,
                                           network_info={UUID: [{"address": "fa:16:3e:00:00:01"}]}))
    [record] = active["instances"]
    assert active["changed"] and record["vm_state"] == ACTIVE and record["host"] == "compute1"
    assert record["network_info"] == [{"address": "fa:16:3e:00:00:01"}] and record["display_name"] == "web"
    assert not (tmp_path / "novalite.fact").exists()
    with pytest.raises(InvalidInput, match="needs the whole record"):
        ensure_records(records_module(tmp_path, [{"uuid": UUID}], ACTIVE, check_mode=True, assume_prepared=True))
    with pytest.raises(InvalidInput, match="is not recorded on this host"):
        ensure_records(records_module(tmp_path, [WHOLE], ACTIVE, assume_prepared=True))  # only in check mode


def test_an_os_error_writing_the_facts_names_the_step(monkeypatch, tmp_path):
    def full_disk(path, content, mode=0o644):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(facts_store, "write_atomic", full_disk)
    with pytest.raises(NovaliteError) as caught:
        ensure_records(records_module(tmp_path, [WHOLE], BUILDING))
    assert caught.value.details["failed_step"] == "write instance records to %s" % (tmp_path / "novalite.fact")
    assert "No space left on device" in caught.value.msg


# --- resized records and whole replacements (resize and migration) -------------------------------

def test_replace_moves_a_whole_record_to_this_host_and_ends_a_resize(tmp_path):
    resized = dict(WHOLE, vm_state="active", host="compute2", old_flavor={"name": "m1.tiny"}, old_host="compute2",
                   extra_field_of_another_feature="kept")
    moved = ensure_records(records_module(tmp_path, [resized], "resized", replace=True,
                                          network_info={UUID: [{"address": "fa:16:3e:00:00:01"}]}))
    [record] = moved["instances"]
    assert (record["vm_state"], record["host"], record["old_host"]) == ("resized", "compute1", "compute2")
    assert record["network_info"] == [{"address": "fa:16:3e:00:00:01"}]
    assert record["extra_field_of_another_feature"] == "kept"
    assert ensure_records(records_module(tmp_path, [record], "resized", replace=True))["changed"] is False
    # a create re-run (building, then active) leaves a resize alone
    assert ensure_records(records_module(tmp_path, [WHOLE], BUILDING))["changed"] is False
    assert ensure_records(records_module(tmp_path, [{"uuid": UUID}], ACTIVE))["changed"] is False
    confirmed = ensure_records(records_module(tmp_path, [record], ACTIVE, replace=True))["instances"][0]
    assert confirmed["vm_state"] == ACTIVE and "old_flavor" not in confirmed and "old_host" not in confirmed


def test_replace_needs_whole_records_a_host_and_a_state(tmp_path):
    with pytest.raises(InvalidInput, match="needs the whole record"):
        ensure_records(records_module(tmp_path, [{"uuid": UUID}], ACTIVE, replace=True))
    with pytest.raises(InvalidInput, match="replace stores whole records: it needs host"):
        ensure_records(records_module(tmp_path, [WHOLE], "absent", replace=True))
    assert not (tmp_path / "novalite.fact").exists()
