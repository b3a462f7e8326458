"""Nothing half-made, and a way out: failures injected on real sandbox hosts at every step of
create_vm.yml (network, image, filters, domain, wait), and deletes of instances in any state or
with an inventory whose definitions are broken now.

After a failed create the error names the step and keeps the step's own message, and nothing of
the new instances is left: no record, fixed IP, hosts line, instance dir, domain or per-interface
filter on any host, no fixed-IP reservation in the controller's ledger.
"""

import contextlib
import json

import pytest

from flow_helpers import (
    CREATE_VM, DELETE_VM, NOTHING_LEFT, controller_state, host_leftovers, instances_named, read_only, run_flow,
    warnings)

STUCK = "tests/integration/playbooks/flow/stuck.yml"
PRIVATE = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
           "gateway": "10.1.0.1", "dhcp_start": "10.1.0.2", "dns1": "8.8.4.4", "bridge": "br100",
           "bridge_interface": "eth0", "multi_host": True}
# a network of its own, so that its bridge is new on the host whatever other tests wired
FAILNET = {"uuid": "5d1c2f4e-7d0b-4f43-9d8e-1f2a3b4c5d6e", "label": "failnet", "cidr": "10.197.0.0/24",
           "bridge": "br197", "multi_host": True}


@pytest.fixture(scope="module")
def box(flow_sandbox):
    return flow_sandbox


def assert_nothing_left(box, vm_name):
    for host in box.hosts:
        assert host_leftovers(host) == NOTHING_LEFT, host.name
    ledger = json.loads((controller_state(box) or {}).get("ipam.json", b"{}"))
    held = [entry["value"] for kind, entries in ledger.items() if kind.startswith("fixed_ips/")
            for entry in entries.values()]
    assert [r for r in held if r["hostname"].startswith(vm_name)] == []


@contextlib.contextmanager
def device_in_the_way(host, name):
    """A link named like the bridge the network step must create, but a veth."""
    host.run(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"])
    try:
        yield
    finally:
        host.run(["ip", "link", "del", name])


@contextlib.contextmanager
def nothing_injected(_host):
    yield


# step: (what is done to compute2 meanwhile, extra vars, the step named, the step's own message)
FAILURES = {
    "network, a device in the bridge's way": (
        lambda host: device_in_the_way(host, "br197"),
        {"network": "failnet", "novalite_networks": {"private": PRIVATE, "failnet": FAILNET}},
        "network", "device br197 exists and is not a bridge (it is a veth)"),
    "network, a read-only networks dir": (
        lambda host: read_only(host, "/var/lib/novalite/networks"), {}, "network", "Read-only file system"),
    "image, a read-only instances dir": (
        lambda host: read_only(host, "/var/lib/novalite/instances"), {}, "image", "Read-only file system"),
    # what the host is given differs from what the request step checked: the host's own check refuses it
    "filters the host refuses": (
        nothing_injected, {"spawn_security_groups": [{"name": "default", "rules": [{"protocol": "tcp", "port": 99999}]}]},
        "spawn (Define the anti-spoofing", "security group default rules[0] port 99999"),
    "a domain that cannot start": (
        nothing_injected, {"spawn_graphics_listen": "192.0.2.1"},
        "spawn (Define and start the domains", "Cannot assign requested address"),
    "a guest not up in time": (
        nothing_injected, {"wait_for": "lease", "spawn_wait_timeout": 1}, "spawn", "waiting for the guests"),
}


@pytest.mark.parametrize("inject, extra_vars, step, message", FAILURES.values(), ids=list(FAILURES))
def test_a_failure_at_any_step_is_undone_and_named(box, inject, extra_vars, step, message):
    vm_name = "fail%d" % list(FAILURES.values()).index((inject, extra_vars, step, message))
    with inject(box.host("compute2")):
        run = run_flow(box, CREATE_VM, dict({"vm_name": vm_name, "target_host": "compute2", "wait_for": "running"},
                                            **extra_vars), may_fail=True)
    assert run.rc != 0
    assert "creating %s on compute2 failed at step %s" % (vm_name, step) in run.output
    assert message in run.output
    assert "what this run made for its new instances was removed" in run.output
    assert_nothing_left(box, vm_name)


BROKEN_INVENTORY = {
    "novalite_networks": {"private": dict(PRIVATE, uuid="not-a-uuid", cidr="10.1.0.0/31", bridge="br 100")},
    "novalite_security_groups": [{"name": "default", "rules": [{"protocol": "gre", "port": 0}]}],
}


def test_delete_works_from_the_records_when_the_inventory_definitions_are_broken_now(box):
    run_flow(box, CREATE_VM, {"vm_name": "brk", "count": 2, "wait_for": "running"})
    assert sorted(instances_named(box, "brk")) == ["brk-1", "brk-2"]
    refused = run_flow(box, CREATE_VM, dict(BROKEN_INVENTORY, vm_name="brk2"), may_fail=True)
    assert refused.rc != 0 and "rules[0] protocol 'gre'" in refused.output  # the request step refuses them
    deleted = run_flow(box, DELETE_VM, dict(BROKEN_INVENTORY, vm_name="brk"))
    assert "deleted brk-1, brk-2" in deleted.output
    assert warnings(deleted) == []
    assert_nothing_left(box, "brk")


@pytest.mark.parametrize("state", ["building", "error"])
def test_delete_removes_an_instance_stuck_in_building_or_error(box, state):
    run_flow(box, STUCK, {"vm_name": "stuck-" + state, "target_host": "compute1", "stuck_state": state})
    [record] = list(instances_named(box, "stuck-" + state).values())
    assert record["vm_state"] == state
    held = host_leftovers(box.host("compute1"))
    assert held["fixed_ips"] and held["hosts_lines"]
    deleted = run_flow(box, DELETE_VM, dict(BROKEN_INVENTORY, vm_name="stuck-" + state))
    assert "deleted stuck-%s" % state in deleted.output
    assert_nothing_left(box, "stuck-" + state)


def test_a_delete_that_fails_says_so_and_a_second_one_finishes_it(box):
    run_flow(box, CREATE_VM, {"vm_name": "sticky", "target_host": "compute1", "wait_for": "running"})
    [record] = list(instances_named(box, "sticky").values())
    compute1 = box.host("compute1")
    with read_only(compute1, "/var/lib/novalite/instances/" + record["name"]):
        failed = run_flow(box, DELETE_VM, {"vm_name": "sticky"}, may_fail=True)
    assert failed.rc != 0
    assert "deleted sticky" not in failed.output
    assert "removing sticky from compute1 failed at step instance directories" in failed.output
    assert "deleting sticky failed: sticky on compute1" in failed.output
    [kept] = list(instances_named(box, "sticky").values())
    assert kept["vm_state"] == "error" and "instance directories" in kept["fault"]

    again = run_flow(box, DELETE_VM, {"vm_name": "sticky"})
    assert "deleted sticky" in again.output
    assert_nothing_left(box, "sticky")
