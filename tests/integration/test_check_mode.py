"""Check mode of the whole flow: ``create_vm.yml --check --diff`` for instances that do not exist
yet succeeds, says per host what it would create, and changes nothing on any host (facts, files,
domains, filters, firewall, links, addresses, processes) or on the controller (locks, ledgers);
``delete_vm.yml --check`` likewise.
"""

import re
import textwrap

import pytest
import yaml

from flow_helpers import (
    CREATE_VM, DELETE_VM, NOTHING_LEFT, controller_state, host_leftovers, host_state, instances_named, run_flow,
    warnings)

PASSWORD = "check-mode-Pa55word"
# A network no other test wires: the check plans its bridge, dnsmasq and firewall from nothing.
CHECKNET = {"uuid": "2b7f9d1e-3c4a-4e5f-8a6b-7c8d9e0f1a2b", "label": "checknet", "cidr": "10.198.0.0/24",
            "bridge": "br198", "multi_host": True}


@pytest.fixture(scope="module")
def box(flow_sandbox):
    return flow_sandbox


def everything(box):
    return {"hosts": {host.name: host_state(host) for host in box.hosts}, "controller": controller_state(box)}


def assert_unchanged(before, after):
    for name, state in before["hosts"].items():
        for key, value in state.items():
            assert after["hosts"][name][key] == value, "%s: %s changed" % (name, key)
    assert after["controller"] == before["controller"], "the controller's state dir changed"


def networks_with_checknet(box):
    """The inventory's networks plus checknet (the sandbox inventory sets none: the default one)."""
    from sandbox_ansible import host_facts  # pylint: disable=import-outside-toplevel
    private = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
               "gateway": "10.1.0.1", "dhcp_start": "10.1.0.2", "dns1": "8.8.4.4", "bridge": "br100",
               "bridge_interface": "eth0", "multi_host": True}
    assert all(CHECKNET["uuid"] not in host_facts(host)["networks"] for host in box.hosts)
    return {"private": private, "checknet": CHECKNET}


@pytest.mark.parametrize("network", ["private", "checknet"])
def test_a_checked_create_succeeds_says_what_it_would_make_and_changes_nothing(box, network):
    extra = {"vm_name": "chk-" + network, "count": 3, "admin_password": PASSWORD, "key_data": "ssh-ed25519 AAAA k",
             "wait_for": "running"}
    if network == "checknet":
        extra.update(network="checknet", novalite_networks=networks_with_checknet(box))
    before = everything(box)
    run = run_flow(box, CREATE_VM, extra, check=True, diff=True)
    assert_unchanged(before, everything(box))

    assert warnings(run) == []
    assert PASSWORD not in run.output
    assert "check mode: nothing was changed" in run.output
    # the table of what the instances would be, all three placed and addressed
    rows = re.findall(r"^\s+(chk-%s-\d)\s+(instance-\w+)\s+(compute\d)\s+(10\.\d+\.0\.\d+)\s+-\s+active" % network,
                      run.output, re.MULTILINE)
    assert sorted(row[0] for row in rows) == ["chk-%s-%d" % (network, n) for n in (1, 2, 3)]
    assert {row[2] for row in rows} == {"compute1", "compute2"}
    assert len({row[3] for row in rows}) == 3
    # and per host what would be made for them
    plan = plan_lines(run.output)
    for display_name, instance, host, address in rows:
        lines = plan[host]
        assert display_name + " as " + instance in lines["instances"]
        assert "%s (fa:16:3e:" % address in lines["fixed IPs"]
        assert "/var/lib/novalite/instances/%s/{" % instance in lines["disks"] and "disk" in lines["disks"]
        assert "/var/lib/novalite/instances/%s/disk.config" % instance in lines["config drives"]
        assert "define nova-instance-%s-fa163e" % instance in lines["filters"]
        assert "%s (define, write libvirt.xml, start)" % instance in lines["domains"]
    if network == "checknet":
        assert all(plan[host]["network"].startswith("facts, bridge") for host in ("compute1", "compute2"))
    assert instances_named(box, "chk-") == {}


def plan_lines(output):
    """{host: {kind: text}} from the check-mode plan the report prints (a list of lines)."""
    task = output[output.index("would create or change on each host"):]
    block = task[task.index("=> \n") + 4:].split("\n\n")[0]
    lines = yaml.safe_load(textwrap.dedent(block))["msg"]
    plan, host = {}, None
    for line in lines:
        if re.fullmatch(r"compute\d+:", line):
            host = line[:-1]
            plan[host] = {}
        else:
            kind, _sep, what = line.strip().partition(": ")
            plan[host][kind] = what
    return plan


def test_a_checked_delete_changes_nothing_and_says_what_it_would_delete(box):
    run_flow(box, CREATE_VM, {"vm_name": "chkdel", "count": 2, "wait_for": "running"})
    created = instances_named(box, "chkdel")
    assert sorted(created) == ["chkdel-1", "chkdel-2"]
    try:
        before = everything(box)
        again = run_flow(box, CREATE_VM, {"vm_name": "chkdel", "count": 2}, check=True, diff=True)
        assert re.search(r"instances: none new", again.output) and "define nova-instance" not in again.output
        checked = run_flow(box, DELETE_VM, {"vm_name": "chkdel"}, check=True)
        assert_unchanged(before, everything(box))
        assert warnings(checked) == []
        assert "check mode: nothing was changed; this run would delete chkdel-1, chkdel-2" in checked.output
        assert sorted(instances_named(box, "chkdel")) == ["chkdel-1", "chkdel-2"]
    finally:
        run_flow(box, DELETE_VM, {"vm_name": "chkdel"})
    for host in box.hosts:
        assert host_leftovers(host) == NOTHING_LEFT


FLOATING = {"novalite_floating_ranges": [{"pool": "nova", "range": "192.168.96.128/28"}]}


def test_checked_floating_ip_runs_change_nothing(box):
    """create_vm.yml -e floating_ip=true, every floating_ip.yml action and delete_vm.yml, with --check --diff."""
    create = dict(FLOATING, vm_name="chkfl", count=2, floating_ip=True, wait_for="running")
    before = everything(box)
    checked = run_flow(box, CREATE_VM, create, check=True, diff=True)
    assert_unchanged(before, everything(box))
    assert warnings(checked) == []
    rows = re.findall(r"^\s+chkfl-\d\s+instance-\w+\s+compute\d\s+10\.1\.0\.\d+\s+(192\.168\.96\.1\d\d)\s+active",
                      checked.output, re.MULTILINE)
    assert len(set(rows)) == 2, checked.output[-3000:]
    run_flow(box, CREATE_VM, create)
    try:
        created = instances_named(box, "chkfl")
        addresses = [r["network_info"][0]["network"]["subnets"][0]["ips"][0]["floating_ips"][0]["address"]
                     for r in created.values()]
        assert sorted(addresses) == sorted(set(rows))
        before = everything(box)
        for extra in ({"floating_action": "associate", "vm_name": "chkfl"},
                      {"floating_action": "disassociate", "vm_name": "chkfl-1"},
                      {"floating_action": "release", "vm_name": "chkfl"},
                      {"floating_action": "allocate"},
                      {"floating_action": "associate", "vm_name": "chkfl-2", "address": addresses[0]}):
            run = run_flow(box, "playbooks/floating_ip.yml", dict(FLOATING, **extra), check=True, diff=True)
            assert "check mode: nothing was changed" in run.output and warnings(run) == []
            assert_unchanged(before, everything(box))
        again = run_flow(box, CREATE_VM, create, check=True, diff=True)
        assert re.search(r"instances: none new", again.output)
        deleted = run_flow(box, DELETE_VM, {"vm_name": "chkfl"}, check=True, diff=True)
        assert "this run would delete chkfl-1, chkfl-2" in deleted.output
        assert_unchanged(before, everything(box))
    finally:
        run_flow(box, DELETE_VM, {"vm_name": "chkfl"})
    for host in box.hosts:
        assert host_leftovers(host) == NOTHING_LEFT
        assert not re.search(r"192\.168\.96\.1[23]\d", host.run(["iptables-save", "-t", "nat"]).stdout)
