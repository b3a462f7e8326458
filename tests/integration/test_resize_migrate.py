"""Issue 12, items 2 and 5: resize (confirm, revert, confirm at once), cold and live migration with real
guests on an SSH sandbox, the playbooks run over SSH as users run them.

Two guests (mig-1 on compute1, mig-2 on compute2, with config drives) are booted once and moved by the
tests in order. After every action: the guest answers ping and HTTP at its fixed IP on its host, sees its
flavor (memory, vcpus, disk and filesystem on its console), and every host's records agree with libvirt;
a re-run changes nothing. Then the refusals and the faults (each leaves the instance running on its source
with its records as they were, and nothing on the target), and the check mode of every action. The wall
time of each action and the live migration's downtime (pings lost at 100 ms) are printed (pytest -s);
nothing asserts a timing.
"""

import os

import pytest

from flow_helpers import controller_state, fixed_ip, host_state
from migration_helpers import (
    CREATE_VM, DELETE_VM, EVERYTHING, MIGRATE_VM, RESIZE_VM, PingWatch, answers, guest_view, held_on,
    migration_ports_refused, play, read_only, record_of, records_agree_with_libvirt, sshd_stopped)
from sandbox import Sandbox

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKnovaliteTestKeyOnly test@novalite"
GIB = 1024 ** 3
TIMINGS = {}


@pytest.fixture(scope="module")
def box(guest_image):
    if os.geteuid() != 0:
        pytest.skip("the sandbox needs root")
    sandbox = Sandbox("mg%d" % os.getpid(), host_count=2, ssh=True)
    sandbox.up(build_image=False)
    try:
        yield sandbox
    finally:
        sandbox.down()
        for action, seconds in sorted(TIMINGS.items()):
            print("wall time %-40s %6.1f s" % (action, seconds))


@pytest.fixture(scope="module")
def guests(box):
    """mig-1 on compute1 and mig-2 on compute2, booted, with a config drive (their key)."""
    for n, host in ((1, "compute1"), (2, "compute2")):
        play(box, CREATE_VM, {"vm_name": "mig-%d" % n, "target_host": host, "key_data": KEY})
    for n in (1, 2):
        host, record = record_of(box, "mig-%d" % n)
        view = guest_view(box, host, record)
        assert view["vcpus"] == 1 and view["disk"] == 32 * 1024 ** 2
    records_agree_with_libvirt(box)
    return {n: record_of(box, "mig-%d" % n)[1] for n in (1, 2)}


def timed(action, run):
    TIMINGS[action] = run.seconds
    return run


def assert_no_op(box, playbook, extra_vars):
    again = play(box, playbook, extra_vars)
    assert again.changed == 0, again.output[-3000:]
    assert "nothing to do" in flat(again.output)


def flat(output):
    """The output with its line breaks and indents as single spaces (the callback wraps long lines)."""
    return " ".join(output.split())


# --- resize ---------------------------------------------------------------------------------------

def test_a_resize_stays_on_its_host_and_the_guest_sees_the_new_flavor(box, guests):
    before = guest_view(box, "compute1", guests[1])
    run = timed("resize, same host", play(box, RESIZE_VM, {"vm_name": "mig-1", "flavor": "t1.bigger"}))
    assert "m1.tiny -> t1.bigger" in flat(run.output)
    host, record = record_of(box, "mig-1")
    assert (host, record["vm_state"], record["flavor"]["name"]) == ("compute1", "resized", "t1.bigger")
    assert (record["old_flavor"]["name"], record["old_host"], record["task_state"]) == ("m1.tiny", "compute1", None)
    assert held_on(box.host("compute1"), record) == sorted(EVERYTHING + ["migration", "resize directory"])
    view = guest_view(box, "compute1", record)
    assert view["memory_kb"] > before["memory_kb"] + 200 * 1024 and view["vcpus"] == 2
    assert view["disk"] == GIB and view["filesystem"] > 900 * 1024 ** 2  # the ext filesystem grew with the disk
    assert "config-drive uuid=%s" % record["uuid"] in view["console"]
    answers(box, record)
    records_agree_with_libvirt(box)
    assert_no_op(box, RESIZE_VM, {"vm_name": "mig-1", "flavor": "t1.bigger"})


def test_a_resized_instance_refuses_other_moves_until_confirmed_or_reverted(box, guests):
    for playbook, extra in ((MIGRATE_VM, {"live": True}), (RESIZE_VM, {"flavor": "m1.small"})):
        refused = play(box, playbook, dict(extra, vm_name="mig-1"), may_fail=True)
        assert refused.rc != 0 and "is resized from m1.tiny on compute1 and awaits confirm or revert" in flat(
            refused.output)


def test_a_revert_brings_back_the_old_flavor_disk_and_record(box, guests):
    timed("revert, same host", play(box, RESIZE_VM, {"vm_name": "mig-1", "resize_action": "revert"}))
    host, record = record_of(box, "mig-1")
    assert (host, record["vm_state"], record["flavor"]["name"]) == ("compute1", "active", "m1.tiny")
    assert "old_flavor" not in record and record == dict(guests[1], launched_at=record["launched_at"])
    assert held_on(box.host("compute1"), record) == EVERYTHING
    view = guest_view(box, "compute1", record)
    assert view["vcpus"] == 1 and view["disk"] == 32 * 1024 ** 2 and view["memory_kb"] < 500 * 1024
    answers(box, record)
    records_agree_with_libvirt(box)
    assert_no_op(box, RESIZE_VM, {"vm_name": "mig-1", "resize_action": "revert"})


def test_a_resize_to_another_host_confirmed_at_once_leaves_nothing_on_the_source(box, guests):
    timed("resize to another host + confirm", play(box, RESIZE_VM, {
        "vm_name": "mig-1", "flavor": "t1.bigger", "target_host": "compute2", "confirm": True}))
    host, record = record_of(box, "mig-1")
    assert (host, record["vm_state"], record["flavor"]["name"]) == ("compute2", "active", "t1.bigger")
    assert fixed_ip(record) == fixed_ip(guests[1]) and record["network_info"][0]["address"] == \
        guests[1]["network_info"][0]["address"]
    assert record["network_info"][0]["network"]["subnets"][0]["meta"]["dhcp_server"] != \
        guests[1]["network_info"][0]["network"]["subnets"][0]["meta"]["dhcp_server"]  # the target's DHCP server
    assert held_on(box.host("compute1"), record) == []
    assert held_on(box.host("compute2"), record) == EVERYTHING
    view = guest_view(box, "compute2", record)
    assert view["memory_kb"] > 700 * 1024 and view["disk"] == GIB
    assert "config-drive uuid=%s" % record["uuid"] in view["console"]  # the config drive came along
    assert "lease %s" % fixed_ip(record) in view["console"]  # from compute2's dnsmasq
    answers(box, record)
    records_agree_with_libvirt(box)
    assert_no_op(box, RESIZE_VM, {"vm_name": "mig-1", "resize_action": "confirm"})


def test_a_smaller_root_disk_is_refused_and_changes_nothing(box, guests):
    before = {host.name: host_state(host) for host in box.hosts}
    refused = play(box, RESIZE_VM, {"vm_name": "mig-1", "flavor": "m1.tiny"}, may_fail=True)
    assert refused.rc != 0 and "has a 0 GB root disk, smaller than the 1 GB of t1.bigger: a disk is never shrunk" \
        in flat(refused.output)
    assert {host.name: host_state(host)["facts"] for host in box.hosts} == {n: s["facts"] for n, s in before.items()}


# --- cold and live migration ------------------------------------------------------------------------

def test_a_cold_migration_moves_the_instance_with_its_address_and_a_confirm_cleans_its_source(box, guests):
    timed("cold migration (confirm=false)", play(box, MIGRATE_VM, {"vm_name": "mig-1", "confirm": False}))
    host, record = record_of(box, "mig-1")
    assert (host, record["vm_state"], record["flavor"]["name"]) == ("compute1", "resized", "t1.bigger")
    assert record["old_flavor"]["name"] == "t1.bigger" and record["old_host"] == "compute2"
    # until the confirm its old host keeps its old directory, filters and hosts line
    assert held_on(box.host("compute2"), record) == ["filter", "fixed ip", "hosts line", "migration",
                                                     "resize directory"]
    assert held_on(box.host("compute1"), record) == EVERYTHING
    view = guest_view(box, "compute1", record)
    assert view["disk"] == GIB and view["filesystem"] > 900 * 1024 ** 2  # the grown disk came along
    answers(box, record)
    records_agree_with_libvirt(box)
    timed("confirm, another host", play(box, RESIZE_VM, {"vm_name": "mig-1", "resize_action": "confirm"}))
    host, record = record_of(box, "mig-1")
    assert (host, record["vm_state"]) == ("compute1", "active") and "old_host" not in record
    assert held_on(box.host("compute2"), record) == [] and held_on(box.host("compute1"), record) == EVERYTHING
    answers(box, record)
    records_agree_with_libvirt(box)
    assert_no_op(box, MIGRATE_VM, {"vm_name": "mig-1", "target_host": "compute1"})


def test_a_live_migration_keeps_the_guest_answering(box, guests):
    host, record = record_of(box, "mig-1")
    answers(box, record)
    with PingWatch(box, fixed_ip(record)) as watch:
        run = timed("live migration", play(box, MIGRATE_VM, {"vm_name": "mig-1", "live": True}))
    figures = watch.figures()
    print("live migration of mig-1 %s -> compute2: %s; libvirt: %s" % (
        host, figures, [line.strip() for line in run.output.splitlines() if "downtime" in line]))
    assert figures["received"] > 0
    host, moved = record_of(box, "mig-1")
    assert (host, moved["vm_state"], moved["task_state"]) == ("compute2", "active", None)
    assert held_on(box.host("compute1"), moved) == [] and held_on(box.host("compute2"), moved) == EVERYTHING
    assert moved["network_info"][0]["network"]["subnets"][0]["meta"]["dhcp_server"] != \
        record["network_info"][0]["network"]["subnets"][0]["meta"]["dhcp_server"]
    answers(box, moved)
    records_agree_with_libvirt(box)
    assert_no_op(box, MIGRATE_VM, {"vm_name": "mig-1", "live": True, "target_host": "compute2"})


def test_a_batch_swaps_hosts_in_one_live_migration(box, guests):
    """mig-1 (compute2) and mig-2 (compute2): both leave compute2 in one run."""
    run = timed("live migration, batch of 2", play(box, MIGRATE_VM, {"vm_name": "mig", "live": True}))
    assert {record_of(box, "mig-%d" % n)[0] for n in (1, 2)} == {"compute1"}
    for n in (1, 2):
        answers(box, record_of(box, "mig-%d" % n)[1])
    records_agree_with_libvirt(box)
    # one module call per host per step for the batch: the source ran the migration task once
    assert run.output.count("TASK [novalite.compute.live_migration : Live-migrate them]") == 1


# --- refusals and faults ----------------------------------------------------------------------------

def everything(box):
    """host_state of every host (without sshd's own session processes, which Ansible's SSH control masters
    open and close as they please) and the controller's state dir."""
    hosts = {}
    for host in box.hosts:
        state = host_state(host)
        state["processes"] = [p for p in state["processes"] if not p.startswith("sshd:")]
        hosts[host.name] = state
    return {"hosts": hosts, "controller": controller_state(box)}


@pytest.mark.parametrize("extra, cause", [
    ({"vm_name": "nosuch"},
     "no instance named nosuch (display name nosuch or nosuch-N, or that uuid) in project default"),
    ({"vm_name": "mig-1", "novalite_reserved_host_memory_mb": 10 ** 7},
     "compute2 (ram_filter: "),
    ({"vm_name": "mig-1", "novalite_compute_enabled": False},
     "compute1 (ignore_hosts_filter: the request ignores this host (an instance that moves leaves it), compute_filter"),
], ids=["unknown", "no RAM on the target", "no other host enabled"])
def test_a_refused_migration_changes_nothing_anywhere(box, guests, extra, cause):
    before = everything(box)
    refused = play(box, MIGRATE_VM, dict(extra, live=True), may_fail=True)
    assert refused.rc != 0 and cause in flat(refused.output)
    after = everything(box)
    for name in before["hosts"]:
        assert after["hosts"][name]["facts"] == before["hosts"][name]["facts"]
        assert after["hosts"][name]["domains"] == before["hosts"][name]["domains"]
    assert after["controller"] == before["controller"]


def stays_on_its_source(box, record, source, target, message, output):
    assert message in flat(output), output[-4000:]
    host, now = record_of(box, record["display_name"])
    assert host == source and now == record
    assert held_on(box.host(target), record) == []
    assert held_on(box.host(source), record) == EVERYTHING
    assert virsh_state(box.host(source), record["name"]) == "running"
    answers(box, now)
    records_agree_with_libvirt(box)


def virsh_state(host, name):
    return host.run(["virsh", "-q", "-c", "qemu:///system", "domstate", name]).stdout.strip()


@pytest.mark.parametrize("live", [False, True], ids=["cold", "live"])
def test_a_target_whose_libvirtd_cannot_be_reached_is_refused_before_the_guest_stops(box, guests, live):
    """compute2's sshd is down: the source cannot reach its libvirtd over qemu+ssh (Ansible still can, over
    the local inventory)."""
    source, record = record_of(box, "mig-2")
    target = box.host("compute2")
    with sshd_stopped(box, target):
        failed = play(box, MIGRATE_VM, {"vm_name": "mig-2", "live": live}, may_fail=True, ssh=False)
    assert failed.rc != 0
    stays_on_its_source(box, record, source, "compute2", "qemu+ssh://root@%s/system" % target.mgmt_address,
                        failed.output)
    assert "Connection refused" in flat(failed.output)


def test_a_cold_migration_that_fails_half_way_starts_the_guest_again_on_its_source(box, guests):
    """compute2's instances directory is read-only: the source has stopped the guest when the copy fails."""
    source, record = record_of(box, "mig-2")
    with read_only(box.host("compute2"), "/var/lib/novalite/instances"):
        failed = play(box, MIGRATE_VM, {"vm_name": "mig-2"}, may_fail=True, ssh=False)
    assert failed.rc != 0
    stays_on_its_source(box, record, source, "compute2", "Read-only file system", failed.output)
    assert "copying the disk of %s to compute2" % record["name"] in flat(failed.output)


def test_a_live_migration_that_fails_half_way_leaves_the_guest_running_and_the_target_clean(box, guests):
    """compute2 refuses QEMU's migration stream once it was prepared (filters, network, disk made)."""
    source, record = record_of(box, "mig-2")
    with migration_ports_refused(box.host("compute2")):
        failed = play(box, MIGRATE_VM, {"vm_name": "mig-2", "live": True}, may_fail=True)
    assert failed.rc != 0
    stays_on_its_source(box, record, source, "compute2", "live migration of %s to compute2 failed" % record["name"],
                        failed.output)


# --- check mode -----------------------------------------------------------------------------------

@pytest.mark.parametrize("playbook, extra", [
    (RESIZE_VM, {"flavor": "t1.bigger"}),
    (RESIZE_VM, {"flavor": "t1.bigger", "target_host": "compute2", "confirm": True}),
    (MIGRATE_VM, {}),
    (MIGRATE_VM, {"live": True}),
], ids=["resize", "resize elsewhere and confirm", "cold migration", "live migration"])
def test_check_mode_changes_nothing_and_says_what_it_would_do(box, guests, playbook, extra):
    before = everything(box)
    run = play(box, playbook, dict(extra, vm_name="mig-2"), check=True, diff=True, ssh=False)
    assert "check mode: nothing was changed; this run would do the following" in flat(run.output)
    assert "would be done (check mode)" in flat(run.output) and "[WARNING]" not in run.output
    after = everything(box)
    for name, state in before["hosts"].items():
        for key, value in state.items():
            assert after["hosts"][name][key] == value, "%s: %s changed" % (name, key)
    assert after["controller"] == before["controller"]


def test_check_mode_of_a_confirm_and_a_revert(box, guests):
    timed("resize to another host", play(box, RESIZE_VM, {"vm_name": "mig-2", "flavor": "t1.bigger",
                                                          "target_host": "compute2"}))
    try:
        for action in ("confirm", "revert"):
            before = everything(box)
            run = play(box, RESIZE_VM, {"vm_name": "mig-2", "resize_action": action}, check=True, diff=True, ssh=False)
            assert "would be done (check mode)" in flat(run.output)
            assert everything(box)["hosts"] == before["hosts"]
    finally:
        timed("revert, another host", play(box, RESIZE_VM, {"vm_name": "mig-2", "resize_action": "revert"}))
    host, record = record_of(box, "mig-2")
    assert (host, record["vm_state"], record["flavor"]["name"]) == ("compute1", "active", "m1.tiny")
    assert held_on(box.host("compute2"), record) == [] and held_on(box.host("compute1"), record) == EVERYTHING
    answers(box, record)
    records_agree_with_libvirt(box)


def test_deleting_a_resized_instance_removes_it_from_both_hosts(box, guests):
    play(box, RESIZE_VM, {"vm_name": "mig-2", "flavor": "t1.bigger", "target_host": "compute2"})
    _host, record = record_of(box, "mig-2")
    timed("delete a resized instance (and mig-1)", play(box, DELETE_VM, {"vm_name": "mig"}))
    for host in box.hosts:
        assert held_on(host, record) == [] and host_state(host)["domains"] == ""
