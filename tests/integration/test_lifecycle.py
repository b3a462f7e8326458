"""Issue 12 acceptance: the lifecycle of real guests on two sandbox compute hosts, through the playbooks
users run (server_action.yml, snapshot_vm.yml, rebuild_vm.yml, console_vm.yml, create_vm.yml with a
server group).

Two guests (life-1 and life-2, one per host) are reused by every test, in order. Their user data
writes a marker onto their disk at every boot, after the guest printed what its disk holds; so a
guest's console says `disk novalite-test-disk` on a fresh disk, `disk life-written` on one it has
used, and a snapshot carries the marker to the instance booted from it. After every action the
records (vm_state, power_state, task_state) must say what libvirt shows, and each re-run of a
state-like action must change nothing. The wall time of each action is written to
bench/results/lifecycle-timings.json (nothing asserts it).
"""

import json
import subprocess

import pytest
import yaml

from flow_helpers import CREATE_VM, DELETE_VM, controller_state, fixed_ip, host_state, instances_named, run_flow
from lifecycle_helpers import (
    CONSOLE_VM, REBUILD_VM, SERVER_ACTION, SNAPSHOT_VM, answers, assert_records_match_libvirt, console_text, pings,
    private_catalog, records, timed, wait_for_line, write_timings)
from sandbox_ansible import BIN, REPO_ROOT, ansible_env

MARK = """#!/bin/sh
mkdir -p /mnt/rw
if mount -t ext4 /dev/vda /mnt/rw; then
  echo life-written > /mnt/rw/novalite-disk-id
  sync
  umount /mnt/rw
  echo "marker written"
fi
"""
FRESH, USED = r"^disk novalite-test-disk size=", r"^disk life-written size="


@pytest.fixture(scope="module")
def box(flow_sandbox):
    yield flow_sandbox
    write_timings()


@pytest.fixture(scope="module")
def catalog(tmp_path_factory, guest_image):
    directory = tmp_path_factory.mktemp("catalog")
    directory.chmod(0o755)
    return private_catalog(directory, guest_image["catalog.yml"].parent)


@pytest.fixture(scope="module")
def life(box, catalog):
    """life-1 and life-2, one per host, up and with the marker on their disks; deleted at the end."""
    timed(box, "create (2 instances, lease)", CREATE_VM, dict(catalog, vm_name="life", count=2, user_data=MARK))
    found = instances_named(box, "life-")
    assert sorted(found) == ["life-1", "life-2"] and {r["host"] for r in found.values()} == {"compute1", "compute2"}
    for record in found.values():
        wait_for_line(box, record, r"^marker written")
    yield {name: record["uuid"] for name, record in found.items()}
    for name in ("life", "fromsnap", "ha"):
        run_flow(box, DELETE_VM, {"vm_name": name})


def act(box, catalog, action, name="life", label=None, **extra):
    return timed(box, label or action, SERVER_ACTION, dict(catalog, vm_name=name, vm_action=action, **extra))


def record_of(box, life, name):
    return records(box, [life[name]])[life[name]]


def trusted(value):
    """ansible-inventory marks values read from hosts' facts as untrusted: {"__ansible_unsafe": v}."""
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) and len(value) == 1 else value


def everything(box):
    return {"hosts": {host.name: host_state(host) for host in box.hosts}, "controller": controller_state(box)}


def test_refused_requests_change_nothing_and_name_the_cause(box, catalog, life):
    before = everything(box)
    for extra, cause in (
            ({"vm_name": "nosuch", "vm_action": "stop"}, "no instance named nosuch (display name nosuch or nosuch-N, "
                                                         "or that uuid) in project default on compute1, compute2"),
            ({"vm_action": "unpause"}, "cannot unpause life-1 (instance-"),
            ({"vm_action": "resume"}, "its vm_state is active; resume needs vm_state suspended"),
            ({"vm_action": "migrate"}, "vm_action migrate: expected stop, start, reboot"),
            ({"vm_action": "reboot", "reboot_type": "warm"}, "lookup_reboot_type must be one of: soft, hard")):
        run = run_flow(box, SERVER_ACTION, dict(catalog, **dict({"vm_name": "life"}, **extra)), may_fail=True)
        assert run.rc != 0 and cause in " ".join(run.output.split()), (extra, run.output[-3000:])
    run = run_flow(box, REBUILD_VM, dict(catalog, vm_name="life", image="novalite-test-kernel"), may_fail=True)
    assert run.rc != 0 and "has disk_format aki; a root disk is one of raw, qcow2, ami" in " ".join(run.output.split())
    after = everything(box)
    assert after == before
    assert_records_match_libvirt(box, life.values(), "active")


def test_stop_and_start(box, catalog, life):
    run = act(box, catalog, "stop")
    assert run.changed == 2
    assert_records_match_libvirt(box, life.values(), "stopped")
    assert act(box, catalog, "stop", label="stop (no-op re-run)").changed == 0
    act(box, catalog, "start", label="start (lease)")
    assert_records_match_libvirt(box, life.values(), "active")
    for name in life:
        answers(box, record_of(box, life, name))
        wait_for_line(box, record_of(box, life, name), USED)  # a new boot of the same disk
    assert act(box, catalog, "start", label="start (no-op re-run)").changed == 0


def test_pause_and_unpause(box, catalog, life):
    act(box, catalog, "pause")
    assert_records_match_libvirt(box, life.values(), "paused")
    assert not pings(box, record_of(box, life, "life-1"))  # its vCPUs are stopped
    assert act(box, catalog, "pause", label="pause (no-op re-run)").changed == 0
    act(box, catalog, "unpause")
    assert_records_match_libvirt(box, life.values(), "active")
    answers(box, record_of(box, life, "life-1"), timeout=60)


def test_suspend_and_resume_restore_the_guest_without_a_boot(box, catalog, life):
    act(box, catalog, "suspend")
    assert_records_match_libvirt(box, life.values(), "suspended")
    assert act(box, catalog, "suspend", label="suspend (no-op re-run)").changed == 0
    act(box, catalog, "resume")
    assert_records_match_libvirt(box, life.values(), "active")
    for name in life:
        record = record_of(box, life, name)
        answers(box, record, timeout=60)
        assert "novalite-guest init" not in console_text(box, record)  # restored from memory, not booted


def test_soft_and_hard_reboot_boot_the_guest_again_and_always_act(box, catalog, life):
    run = act(box, catalog, "reboot", label="reboot soft (lease)")
    assert run.changed == 2 and "reboot soft" in run.output
    for reboot_type in ("soft", "hard"):
        if reboot_type == "hard":
            run = act(box, catalog, "reboot", label="reboot hard (lease)", reboot_type="hard")
            assert run.changed == 2 and "reboot hard" in run.output
        assert_records_match_libvirt(box, life.values(), "active")
        for name in life:
            record = record_of(box, life, name)
            wait_for_line(box, record, r"^novalite-guest init")
            wait_for_line(box, record, USED)
            answers(box, record)


def test_a_snapshot_lands_in_the_catalog_and_boots_as_a_new_instance(box, catalog, life):
    record = record_of(box, life, "life-1")
    run = timed(box, "snapshot (running guest)", SNAPSHOT_VM, dict(catalog, vm_name="life-1", image_name="life-snap"))
    assert run.changed == 1
    assert_records_match_libvirt(box, life.values(), "active")  # paused for the copy only, and no task left
    images = {image["name"]: image for image in yaml.safe_load(open(catalog["novalite_image_catalog"]))["images"]}
    snap = images["life-snap"]
    assert snap["properties"]["image_type"] == "snapshot" and snap["properties"]["instance_uuid"] == record["uuid"]
    assert snap["properties"]["base_image_ref"] == record["image_ref"] and snap["status"] == "active"
    assert snap["properties"]["kernel_id"] == record["kernel_id"] and snap["disk_format"] == "qcow2"
    assert timed(box, "snapshot (no-op re-run)", SNAPSHOT_VM,
                 dict(catalog, vm_name="life-1", image_name="life-snap")).changed == 0
    timed(box, "create from the snapshot (lease)", CREATE_VM, dict(catalog, vm_name="fromsnap", image="life-snap"))
    booted = instances_named(box, "fromsnap")["fromsnap"]
    assert booted["image_ref"] == snap["id"]
    wait_for_line(box, booted, USED)  # the snapshot carries what life-1 wrote on its disk
    answers(box, booted)
    run_flow(box, DELETE_VM, {"vm_name": "fromsnap"})


def test_rebuild_keeps_the_identity_and_makes_a_new_disk_from_the_same_or_another_image(box, catalog, life):
    before = record_of(box, life, "life-1")
    run = timed(box, "rebuild (same image, lease)", REBUILD_VM, dict(catalog, vm_name="life-1"))
    assert run.changed > 0
    after = record_of(box, life, "life-1")
    for field in ("uuid", "name", "host", "image_ref", "network_info"):
        assert after[field] == before[field], field
    assert after["launched_at"] != before["launched_at"]
    assert_records_match_libvirt(box, life.values(), "active")
    wait_for_line(box, after, FRESH)  # a new disk from the image, before the user data marks it again
    wait_for_line(box, after, r"^config-drive uuid=%s" % after["uuid"])  # the config drive written again
    wait_for_line(box, after, r"^marker written")  # ... with the user data it had
    answers(box, after)
    timed(box, "rebuild (from a snapshot, lease)", REBUILD_VM, dict(catalog, vm_name="life-1", image="life-snap"))
    rebuilt = record_of(box, life, "life-1")
    assert rebuilt["image_name"] == "life-snap" and rebuilt["network_info"] == before["network_info"]
    wait_for_line(box, rebuilt, USED)
    answers(box, rebuilt)
    assert_records_match_libvirt(box, life.values(), "active")


def test_a_rebuild_that_fails_half_way_puts_the_instance_back(box, catalog, life):
    before = record_of(box, life, "life-2")
    run = run_flow(box, REBUILD_VM, dict(catalog, vm_name="life-2", spawn_wait_timeout=1), may_fail=True)
    output = " ".join(run.output.split())
    assert run.rc != 0 and "failed at step spawn" in output and "they were put back as they were" in output
    after = record_of(box, life, "life-2")
    assert (after["image_ref"], after["launched_at"]) == (before["image_ref"], before["launched_at"])
    assert_records_match_libvirt(box, life.values(), "active")
    wait_for_line(box, after, USED)  # its own disk, not a new one
    answers(box, after)


def test_a_stopped_instance_is_rebuilt_and_stays_stopped(box, catalog, life):
    act(box, catalog, "stop", name="life-2", label="stop (one instance)")
    timed(box, "rebuild (stopped instance)", REBUILD_VM, dict(catalog, vm_name="life-2"))
    assert_records_match_libvirt(box, [life["life-2"]], "stopped")
    assert "disk novalite-test-disk" in console_text(box, record_of(box, life, "life-2"))
    act(box, catalog, "start", name="life-2", label="start (one instance, lease)")
    answers(box, record_of(box, life, "life-2"))


def test_the_console_playbook_shows_the_last_lines(box, catalog, life):
    run = timed(box, "console (2 instances)", CONSOLE_VM, dict(catalog, vm_name="life", lines=5))
    assert run.changed == 0
    assert "== life-1 (instance-" in run.output and "== life-2 (instance-" in run.output
    by_uuid = run_flow(box, CONSOLE_VM, dict(catalog, vm_name=life["life-2"], lines=3))  # by uuid: that one only
    assert "== life-2 (instance-" in by_uuid.output and "== life-1" not in by_uuid.output


def test_the_inventory_shows_the_states(box, catalog, life, tmp_path):
    act(box, catalog, "pause", name="life-2", label="pause (one instance)")
    config = tmp_path / "instances.novalite.yml"
    config.write_text(yaml.safe_dump({"plugin": "novalite.compute.instances"}))
    listed = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(config), "--list"], cwd=REPO_ROOT,
                            env=ansible_env(box), capture_output=True, text=True, check=True)
    inventory = json.loads(listed.stdout, object_hook=trusted)
    assert "life-2" in inventory["vm_state_paused"]["hosts"] and "life-1" in inventory["vm_state_active"]["hosts"]
    assert "life-2" in inventory["power_state_paused"]["hosts"]
    hostvars = inventory["_meta"]["hostvars"]["life-2"]
    assert (hostvars["novalite_vm_state"], hostvars["novalite_power_state"]) == ("paused", "paused")
    act(box, catalog, "unpause", name="life-2", label="unpause (one instance)")


def test_check_and_diff_mode_of_every_playbook_change_nothing(box, catalog, life):
    before = dict(everything(box), catalog=open(catalog["novalite_image_catalog"]).read())
    for playbook, extra in ((SERVER_ACTION, {"vm_action": "stop"}), (SERVER_ACTION, {"vm_action": "reboot"}),
                            (SERVER_ACTION, {"vm_action": "suspend"}), (REBUILD_VM, {"image": "life-snap"}),
                            (SNAPSHOT_VM, {"image_name": "check-snap"}), (CONSOLE_VM, {})):
        run = run_flow(box, playbook, dict(catalog, vm_name="life", **extra), check=True, diff=True)
        assert run.rc == 0 and ("check mode" in run.output or playbook == CONSOLE_VM), playbook
    assert dict(everything(box), catalog=open(catalog["novalite_image_catalog"]).read()) == before
    assert_records_match_libvirt(box, life.values(), "active")


def test_server_groups_keep_their_members_apart_or_together(box, catalog, life):
    run = timed(box, "create (anti-affinity group of 2, running)", CREATE_VM,
                dict(catalog, vm_name="ha", count=2, group="ha", group_policy="anti-affinity", wait_for="running"))
    members = instances_named(box, "ha-")
    assert {r["host"] for r in members.values()} == {"compute1", "compute2"}
    assert {(r["server_group"], r["server_group_policy"]) for r in members.values()} == {("ha", "anti-affinity")}
    before = everything(box)
    run = run_flow(box, CREATE_VM, dict(catalog, vm_name="ha", count=3, group="ha"), may_fail=True)
    assert run.rc != 0 and ("server group ha (anti-affinity) would have 3 members, and there are 2 compute hosts"
                            in " ".join(run.output.split()))
    run = run_flow(box, CREATE_VM, dict(catalog, vm_name="ha-x", group="ha", group_policy="affinity"), may_fail=True)
    assert run.rc != 0 and "a group's policy cannot change" in " ".join(run.output.split())
    assert everything(box) == before
    planned = run_flow(box, CREATE_VM, dict(catalog, vm_name="db", count=2, group="db", group_policy="affinity"),
                       check=True)
    hosts = {line.split()[2] for line in planned.output.splitlines() if line.strip().startswith("db-")}
    assert len(hosts) == 1, planned.output[-2000:]
    assert [fixed_ip(r) for r in members.values()]
