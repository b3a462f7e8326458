"""plugin_utils/migration_specs.py: a request's moves as each step's batch, step results, the report."""

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.plugin_utils.migration_specs import (
    move_report, move_specs, moves_on, resize_leftovers, step_failures)

TINY = {"name": "m1.tiny", "memory_mb": 512, "vcpus": 1, "root_gb": 0}
BIGGER = {"name": "t1.bigger", "memory_mb": 768, "vcpus": 2, "root_gb": 1}
NETWORK = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private"}


def move(n, source, target, **extra):
    record = {"uuid": "u%d" % n, "name": "instance-%08x" % n, "display_name": "web-%d" % n, "image_ref": "img",
              "kernel_id": "k", "ramdisk_id": None, "flavor": TINY, "vm_state": "active"}
    entry = {"operation": "resize", "uuid": "u%d" % n, "name": record["name"], "display_name": record["display_name"],
             "source": source, "target": target, "same_host": source == target, "old_flavor": TINY,
             "new_flavor": BIGGER, "power_on": True, "record": record, "target_uri": "qemu+ssh://root@%s/system" % target,
             "migration_address": target, "final_record": dict(record, flavor=BIGGER, host=target, vm_state="resized"),
             "confirmed_record": dict(record, vm_state="active"), "reverted_record": record,
             "networks": [{"definition": NETWORK, "dhcp_server": "10.1.0.5",
                           "instances": [{"instance_uuid": "u%d" % n, "address": "10.1.0.%d" % (10 + n)}]}]}
    entry.update(extra)
    return entry


MOVES = [move(1, "compute1", "compute2"), move(2, "compute1", "compute1"), move(3, "compute2", "compute1")]


def test_moves_on_a_host_by_side_and_by_what_a_step_finished():
    assert [m["uuid"] for m in moves_on(MOVES, "compute1", "source")] == ["u1", "u2"]
    assert [m["uuid"] for m in moves_on(MOVES, "compute1", "target")] == ["u2", "u3"]
    assert [m["uuid"] for m in moves_on(MOVES, "compute1", "source", other_host=True)] == ["u1"]
    results = [{"host": "compute1", "done": ["u1"], "failed": {"u2": "broken"}}]
    assert [m["uuid"] for m in moves_on(MOVES, done=results)] == ["u1"]
    assert [m["uuid"] for m in moves_on(MOVES, not_done=results)] == ["u2", "u3"]
    with pytest.raises(InvalidInput, match="side must be one of source, target"):
        moves_on(MOVES, "compute1", "sideways")


def test_each_step_gets_its_entries():
    [migrated] = move_specs(MOVES[:1], "resize_migrated")
    assert migrated == {"name": "instance-00000001", "uuid": "u1", "same_host": False, "target_host": "compute2",
                        "target_uri": "qemu+ssh://root@compute2/system", "record": MOVES[0]["record"],
                        "new_flavor": BIGGER}
    assert move_specs(MOVES[:1], "resize_finished") == [{"name": "instance-00000001", "uuid": "u1", "root_gb": 1}]
    # the target's disk on the base the source's disk uses: its resized base of 3 GB, not the new flavor's
    assert move_specs(MOVES[:1], "image_cache", disks={"u1": {"base_root_gb": 3}}) == [
        {"name": "instance-00000001", "image_id": "img", "kernel_id": "k", "ramdisk_id": "", "root_gb": 3}]
    [network] = move_specs(MOVES, "nova_network")
    assert network["dhcp_server"] == "10.1.0.5" and len(network["instances"]) == 3
    assert move_specs(MOVES[:1], "released") == [{"instance_uuid": "u1"}]
    assert move_specs(MOVES[:1], "names") == [{"name": "instance-00000001"}]
    [live] = move_specs(MOVES[:1], "live_migrated", network_info={"u1": ["vif"]})
    assert live["network_info"] == ["vif"] and live["migration_address"] == "compute2"
    assert move_specs(MOVES[:1], "records")[0]["vm_state"] == "resized"
    with pytest.raises(InvalidInput, match="no move mapping 'nosuch'"):
        move_specs(MOVES, "nosuch")


def test_a_confirmed_record_is_the_one_the_host_keeps_without_the_resize():
    stored = dict(MOVES[0]["final_record"], old_flavor=TINY, old_host="compute1", network_info=["the target's"])
    [confirmed] = move_specs(MOVES[:1], "confirmed", facts={"instances": {"u1": stored}})
    assert confirmed["vm_state"] == "active" and confirmed["network_info"] == ["the target's"]
    assert "old_flavor" not in confirmed and "old_host" not in confirmed


def test_the_report_names_every_failure_and_the_state_now():
    outcome = {"operation": "resize", "moves": MOVES[:2],
               "unchanged": [{"display_name": "web-9", "uuid": "u9", "host": "compute2", "reason": "has flavor"}]}
    results = [{"host": "compute2", "done": ["u1"], "failed": {}},
               {"host": "compute1", "done": [], "failed": {"u2": "disk full"}}]
    records = [{"u1": {"vm_state": "resized"}}, {"u2": {"vm_state": "active"}}]
    report = move_report(outcome, records, results)
    assert report["failures"] == ["web-2 (resize): compute1: disk full"]
    assert "m1.tiny -> t1.bigger" in report["lines"][1] and report["lines"][1].endswith("done")
    assert "FAILED: compute1: disk full" in report["lines"][2]
    assert "nothing to do: has flavor" in report["lines"][3]
    assert step_failures(results) == {"u2": "compute1: disk full"}
    checked = move_report(outcome, records, [], check_mode=True)
    assert checked["failures"] == [] and "would be done (check mode)" in checked["lines"][1]


def test_a_live_migration_reports_its_time_and_downtime():
    outcome = {"operation": "live_migrate", "moves": [move(1, "compute1", "compute2", operation="live_migrate")],
               "unchanged": []}
    results = [{"host": "compute1", "done": ["u1"], "failed": {},
                "jobs": {"u1": {"seconds": 4.2, "stats": {"downtime": 85}}}}]
    assert move_report(outcome, [], results)["lines"][1].endswith("done (4.2 s, downtime 85 ms)")


def test_resize_leftovers_are_confirm_moves_of_the_host_migrations():
    migration = {"instance_uuid": "u5", "instance_name": "instance-00000005", "display_name": "web-5",
                 "project_id": "default", "source_compute": "compute1", "dest_compute": "compute2",
                 "old_flavor": TINY, "new_flavor": BIGGER, "old_record": {"uuid": "u5", "vm_state": "active"}}
    [leftover] = resize_leftovers({"migrations": {"u5": migration}}, "compute1", "web", "default")
    assert (leftover["operation"], leftover["source"], leftover["same_host"], leftover["orphan"]) == (
        "confirm", "compute1", False, True)
    assert resize_leftovers({"migrations": {"u5": migration}}, "compute1", "db", "default") == []
    same = dict(migration, dest_compute="compute1")
    assert resize_leftovers({"migrations": {"u5": same}}, "compute1", "web-5", "default")[0]["same_host"] is True
