from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import (
    ACTIVE, BUILDING, DELETED, ERROR, RUNNING, live_records, new_record, records_of, transition)

WANTED = {"uuid": "u1", "name": "instance-00000001", "flavor": {"vcpus": 1, "memory_mb": 512}, "host": "compute1"}


def test_building_records_the_host():
    record = transition(None, WANTED, BUILDING, "t0")
    assert record["vm_state"] == BUILDING and record["host"] == "compute1" and record["task_state"] == "spawning"


def test_active_sets_launched_at_once_and_network_info():
    building = transition(None, WANTED, BUILDING, "t0")
    active = transition(building, {"uuid": "u1"}, ACTIVE, "t1", network_info=[{"address": "fa:16:3e:00:00:01"}])
    assert (active["vm_state"], active["power_state"], active["launched_at"]) == (ACTIVE, RUNNING, "t1")
    again = transition(active, {"uuid": "u1"}, ACTIVE, "t2")
    assert again == active


def test_active_never_goes_back_to_building():
    active = transition(transition(None, WANTED, BUILDING, "t0"), {"uuid": "u1"}, ACTIVE, "t1")
    assert transition(active, WANTED, BUILDING, "t2") == active


def test_error_keeps_the_fault():
    record = transition(transition(None, WANTED, BUILDING, "t0"), {"uuid": "u1"}, ERROR, "t1", fault="spawn failed")
    assert record["vm_state"] == ERROR and record["fault"] == "spawn failed"


def test_records_of_collects_every_host():
    documents = {"c1": {"instances": {"a": new_record(uuid="a")}}, "c2": {"instances": {}}, "c3": None}
    assert [r["uuid"] for r in records_of(documents)] == ["a"]


def test_live_records_leave_out_only_deleted_ones():
    records = [{"uuid": "a", "vm_state": ACTIVE}, {"uuid": "b", "vm_state": DELETED}, {"uuid": "c"},
               {"uuid": "d", "vm_state": ERROR}]
    assert [r["uuid"] for r in live_records(records)] == ["a", "c", "d"]
