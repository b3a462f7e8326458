"""Issue 11 with real guests: the way out (SNAT), the metadata service, floating IPs and DNS.

Two guests on a sandbox of their own, shared by every test here and taken in order: gn-a on
compute1 with a floating IP from create_vm.yml (``floating_ip: true``) and a password, gn-b on
compute2 without. Each runs the probe loop of guest_probes.py (router, the "internet" address
beyond it where a seen server says who asked, DNS names, its metadata) and prints every round
on its serial console. The network's dns1 is a dnsmasq of the test's on the internet address,
answering one name. At the end both are deleted and the network taken down: nothing is left.
"""

import hashlib
import json
import re
import subprocess

import pytest
import yaml

from flow_helpers import (
    CREATE_VM, DELETE_VM, FlowRun, console_log, controller_state, fixed_ip, host_state, instances_named,
    namespace_processes, run_flow, warnings)
from guest_probes import console_size, dns_server, probe_user_data, seen_server, wait_for_round
from network_ansible import take_network_down
from sandbox import Sandbox
from sandbox_ansible import BIN, REPO_ROOT, ansible_env, host_facts, run_module

FLOATING_IP = "playbooks/floating_ip.yml"
PASSWORD = "Gn-Adm1n-n3ver-logged"
SEEN_PORT = 8080
DNS_NAME, DNS_ANSWER = "probe.example.test", "203.0.113.77"
NETWORK = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
           "gateway": "10.1.0.1", "dhcp_start": "10.1.0.2", "dns1": Sandbox.internet_address, "bridge": "br100",
           "bridge_interface": "eth0", "multi_host": True}
POOL = [{"pool": "nova", "range": "192.168.96.128/28"}]
BOOT_TIMEOUT = 420  # two TCG guests on two shared cores


def inventory_vars(**more):
    return dict({"novalite_networks": {"private": NETWORK}, "novalite_floating_ranges": POOL}, **more)


@pytest.fixture(scope="module")
def box(guest_sandbox):
    return guest_sandbox


@pytest.fixture(scope="module")
def internet(box):
    """The seen server and the DNS server on the internet address, for the whole module."""
    with seen_server(box.switch_command, box.internet_address, SEEN_PORT), \
            dns_server(box.switch_command, box.internet_address, DNS_NAME, DNS_ANSWER):
        yield box.internet_address


@pytest.fixture(scope="module")
def guests(box, internet):
    """gn-a (compute1, floating IP, password) and gn-b (compute2): their records and the two create runs."""
    user_data = probe_user_data(box.router_address, internet, SEEN_PORT,
                                ["gn-a.novalocal", "gn-b.novalocal", DNS_NAME])
    create_a = inventory_vars(vm_name="gn-a", target_host="compute1", floating_ip=True, admin_password=PASSWORD,
                              user_data=user_data, wait_for="running")
    create_b = inventory_vars(vm_name="gn-b", target_host="compute2", user_data=user_data, wait_for="running")
    runs = {"gn-a": run_flow(box, CREATE_VM, create_a), "gn-b": run_flow(box, CREATE_VM, create_b)}
    try:
        yield {"records": instances_named(box, "gn-"), "runs": runs, "user_data": user_data}
    finally:
        run_flow(box, DELETE_VM, {"vm_name": "gn-a"}, may_fail=True)
        run_flow(box, DELETE_VM, {"vm_name": "gn-b"}, may_fail=True)


def floating_of(record):
    ips = record["network_info"][0]["network"]["subnets"][0]["ips"][0]["floating_ips"]
    return ips[0]["address"] if ips else None


def lan_get(box, address, timeout=5):
    """What the LAN (the switch namespace) gets from http://ADDRESS/ (the guest's busybox httpd)."""
    done = box.switch_run(["curl", "-s", "-m", str(timeout), "http://%s/" % address], check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def test_creates_show_the_floating_ip_and_tell_the_other_host_the_new_name(box, guests):
    records, runs = guests["records"], guests["runs"]
    assert sorted(records) == ["gn-a", "gn-b"]
    assert (records["gn-a"]["host"], records["gn-b"]["host"]) == ("compute1", "compute2")
    address = floating_of(records["gn-a"])
    assert address == "192.168.96.129" and floating_of(records["gn-b"]) is None
    assert re.search(r"gn-a +instance-\w+ +compute1 +10\.1\.0\.\d+ +192\.168\.96\.129 +active", runs["gn-a"].output)
    assert re.search(r"gn-b +instance-\w+ +compute2 +10\.1\.0\.\d+ +- +active", runs["gn-b"].output)
    # compute1 had no instance in gn-b's run: it was told gn-b's name (Nova's update_dns), in one call
    assert re.search(r"update_dns\)\] \*+\nchanged: \[compute2 -> compute1\]", runs["gn-b"].output)
    for run in runs.values():
        assert warnings(run) == [] and PASSWORD not in run.output


def test_a_guest_reaches_the_router_and_the_internet_from_its_hosts_address(box, guests):
    line = wait_for_round(console_log(box, guests["records"]["gn-b"]), r"router=ok internet=seen ",
                          timeout=BOOT_TIMEOUT)
    assert line.endswith("internet=seen 192.168.96.81")  # compute2's own address: SNAT, no MASQUERADE


def test_without_the_snat_rule_it_does_not_and_a_rerun_puts_it_back(box, guests):
    record = guests["records"]["gn-b"]
    console, host = console_log(box, record), box.host("compute2")
    rule = ["-s", "10.1.0.0/16", "-o", "br100", "-j", "SNAT", "--to-source", "192.168.96.81"]
    offset = console_size(console)
    host.run(["iptables", "-t", "nat", "-D", "nova-network-snat"] + rule)
    try:
        wait_for_round(console, r"router=failed internet=failed$", offset, timeout=120, count=2)
    finally:
        rerun = run_flow(box, CREATE_VM, inventory_vars(vm_name="gn-b", user_data=guests["user_data"]))
    assert re.search(r"Wire the network on this host and hand out its instances' addresses\] \*+\n"
                     r"(ok: \[compute1\]\n)?changed: \[compute2\]", rerun.output), rerun.output[-3000:]
    assert " ".join(rule) in host.run(["iptables-save", "-t", "nat"]).stdout
    offset = console_size(console)
    wait_for_round(console, r"router=ok internet=seen 192\.168\.96\.81$", offset, timeout=120)
    again = run_flow(box, CREATE_VM, inventory_vars(vm_name="gn-b", user_data=guests["user_data"]))
    assert again.changed == 0


def meta_lines(box, record, offset=0):
    """The guest's latest complete metadata round: {"os": meta_data.json, "md5": ..., "ec2": {...}, "lists": {...}}."""
    console = console_log(box, record)
    wait_for_round(console, r"meta ec2-pass=", offset, timeout=BOOT_TIMEOUT)
    rounds = {}
    for line in console.read_text(errors="replace").splitlines():
        match = re.match(r"probe (\d+) meta (.*?)\r?$", line)
        if match:
            rounds.setdefault(int(match.group(1)), []).append(match.group(2))
    latest = max(n for n, lines in rounds.items() if len(lines) == 4)
    os_line, md5_line, ec2_line, lists_line = rounds[latest]
    return {"os": json.loads(os_line[len("os="):]), "md5": md5_line.split("=", 1)[1],
            "ec2": dict(item.split("=", 1) for item in ec2_line[len("ec2 "):].split()),
            "lists": dict(item.split("=", 1) for item in lists_line.split())}


def test_each_guest_reads_its_own_metadata_and_only_its_own(box, guests):
    records = guests["records"]
    seen = {name: meta_lines(box, record) for name, record in records.items()}
    for name, record in records.items():
        meta = seen[name]
        assert meta["os"]["uuid"] == record["uuid"] and meta["os"]["name"] == name
        assert meta["os"]["hostname"] == meta["ec2"]["hostname"] == "%s.novalocal" % name
        assert meta["ec2"]["instance-id"] == "i-%08x" % record["id"]
        assert meta["ec2"]["local-ipv4"] == fixed_ip(record)
        assert meta["lists"]["versions"] == ("1.0,2007-01-19,2007-03-01,2007-08-29,2007-10-10,2007-12-15,2008-02-01,"
                                             "2008-09-01,2009-04-04,latest")
        assert meta["lists"]["openstack"] == "2012-08-10,2013-04-04,2013-10-17,latest"
        assert meta["lists"]["latest"] == "meta_data.json,network_data.json,user_data,vendor_data.json"
        assert meta["lists"]["ec2-pass"] == "0"  # no password anywhere in the EC2 tree
    assert seen["gn-a"]["os"]["uuid"] != seen["gn-b"]["os"]["uuid"]
    assert seen["gn-a"]["ec2"]["public-ipv4"] == floating_of(records["gn-a"]) and seen["gn-b"]["ec2"]["public-ipv4"] == ""
    # the password where Nova's config drive carried it (meta_data.json's admin_pass), for gn-a only
    assert seen["gn-a"]["os"]["admin_pass"] == "set" and seen["gn-a"]["md5"] == hashlib.md5(
        PASSWORD.encode()).hexdigest()
    assert "admin_pass" not in seen["gn-b"]["os"] and seen["gn-b"]["md5"] == hashlib.md5(b"").hexdigest()


def test_an_address_that_is_no_instance_gets_404(box, guests):
    assert guests["records"]
    host = box.host("compute1")
    netns = "%s-stranger" % box.prefix  # removed by the sandbox's down, and here
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        host.run(["ip", "link", "add", "gnst0", "type", "veth", "peer", "name", "gnst1"])
        host.run(["ip", "link", "set", "gnst1", "master", "br100", "up"])
        # the machine's /run/netns, not the host's own /run: only the host's network namespace is entered
        subprocess.run(["nsenter", "--target", str(host.anchor_pid), "--net", "ip", "link", "set", "gnst0", "netns",
                        netns], check=True)
        for args in (["link", "set", "gnst0", "up"], ["addr", "add", "10.1.255.200/16", "dev", "gnst0"],
                     ["route", "add", "default", "via", "10.1.0.3"]):
            subprocess.run(["ip", "-n", netns] + args, check=True)
        for path in ("/", "/openstack/latest/meta_data.json", "/latest/meta-data/instance-id"):
            answer = subprocess.run(["ip", "netns", "exec", netns, "curl", "-s", "-m", "10", "-o", "/dev/null",
                                     "-w", "%{http_code}", "http://169.254.169.254" + path],
                                    capture_output=True, text=True, check=False)
            assert answer.stdout == "404", path
    finally:
        host.run(["ip", "link", "del", "gnst1"], check=False)
        subprocess.run(["ip", "netns", "del", netns], check=False)
    log = host.run(["cat", "/var/lib/novalite/networks/nova-br100.metadata.log"]).stdout
    assert '10.1.255.200 "GET /openstack/latest/meta_data.json" 404' in log
    assert PASSWORD not in log
    assert host.run(["stat", "-c", "%a", "/var/lib/novalite/networks/nova-br100.metadata.log"]).stdout.strip() == "600"


def test_the_lan_reaches_gn_a_at_its_floating_ip_and_it_leaves_with_it(box, guests):
    record = guests["records"]["gn-a"]
    address = floating_of(record)
    wait_for_round(console_log(box, record), r"internet=seen %s$" % re.escape(address), timeout=BOOT_TIMEOUT)
    answer = lan_get(box, address)
    assert answer and answer.startswith("novalite-guest gn-a.novalocal %s " % fixed_ip(record))
    host = box.host("compute1")
    assert "%s/32" % address in host.run(["ip", "-4", "addr", "show", "dev", "br100"]).stdout
    nat = host.run(["iptables-save", "-t", "nat"]).stdout
    fixed = fixed_ip(record)
    for rule in ("-A nova-network-float-snat -s %s/32 -d %s/32 -j SNAT --to-source %s" % (fixed, fixed, address),
                 "-A nova-network-float-snat -s %s/32 -o br100 -j SNAT --to-source %s" % (fixed, address),
                 "-A nova-network-PREROUTING -d %s/32 -j DNAT --to-destination %s" % (address, fixed),
                 "-A nova-network-OUTPUT -d %s/32 -j DNAT --to-destination %s" % (address, fixed),
                 "-A nova-network-POSTROUTING -s %s/32 -m conntrack --ctstate DNAT -j SNAT --to-source %s"
                 % (fixed, address)):
        assert rule + "\n" in nat, rule


def test_guests_resolve_each_other_across_hosts_and_other_names_are_forwarded(box, guests):
    records = guests["records"]
    for name, record in records.items():
        console = console_log(box, record)
        for other in records.values():
            wait_for_round(console, r"dns %s\.novalocal=%s$" % (other["hostname"], re.escape(fixed_ip(other))),
                           timeout=BOOT_TIMEOUT)
        wait_for_round(console, r"dns %s=%s$" % (re.escape(DNS_NAME), re.escape(DNS_ANSWER)), timeout=120)
    for host in box.hosts:  # every host knows every instance
        names = host.run(["cat", "/var/lib/novalite/networks/nova-br100.hosts"]).stdout
        assert sorted(names.splitlines()) == sorted("%s\t%s.novalocal" % (fixed_ip(r), r["hostname"])
                                                    for r in records.values())


def floating_run(box, action, check=False, **extra):
    return FlowRun(box, FLOATING_IP, inventory_vars(floating_action=action, **extra), check=check, diff=check).finish()


def everything(box):
    return {"hosts": {host.name: host_state(host) for host in box.hosts}, "controller": controller_state(box)}


def inventory_host(box, name, tmp_path):
    config = tmp_path / "instances.novalite.yml"
    config.write_text(yaml.safe_dump({"plugin": "novalite.compute.instances"}))
    listed = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(config), "--host", name], cwd=REPO_ROOT,
                            env=ansible_env(box), capture_output=True, text=True, check=True)
    value = json.loads(listed.stdout)["ansible_host"]
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) else value


def test_floating_ip_playbook_associates_disassociates_and_releases_on_gn_b(box, guests, tmp_path):
    record = guests["records"]["gn-b"]
    console = console_log(box, record)
    before = everything(box)
    checked = floating_run(box, "associate", check=True, vm_name="gn-b")
    assert checked.rc == 0 and "check mode: nothing was changed" in checked.output, checked.output[-3000:]
    assert everything(box) == before, "check mode changed something"

    associated = FlowRun(box, FLOATING_IP, inventory_vars(action="associate", vm_name="gn-b")).finish()
    assert associated.rc == 0, associated.output[-3000:]
    assert associated.recap["compute2"]["changed"] >= 1 and associated.recap["compute1"]["changed"] == 0
    assert [w for w in warnings(associated) if "reserved name 'action'" not in w] == []
    record = instances_named(box, "gn-b")["gn-b"]
    address = floating_of(record)
    assert address == "192.168.96.130" and re.search(r"%s +nova +default +gn-b +%s +compute2" % (
        re.escape(address), re.escape(fixed_ip(record))), associated.output)
    assert inventory_host(box, "gn-b", tmp_path) == address
    offset = console_size(console)
    wait_for_round(console, r"internet=seen %s$" % re.escape(address), offset, timeout=120)
    assert lan_get(box, address).startswith("novalite-guest gn-b.novalocal %s " % fixed_ip(record))
    assert meta_lines(box, record, offset)["ec2"]["public-ipv4"] == address
    assert floating_run(box, "associate", vm_name="gn-b").changed == 0

    before = everything(box)
    for action, extra in (("disassociate", {"vm_name": "gn-b"}), ("release", {"vm_name": "gn-b"}),
                          ("allocate", {}), ("associate", {"vm_name": "gn-a", "address": address})):
        checked = floating_run(box, action, check=True, **extra)
        assert checked.rc == 0 and everything(box) == before, (action, checked.output[-3000:])

    disassociated = floating_run(box, "disassociate", address=address)
    assert disassociated.rc == 0 and disassociated.recap["compute2"]["changed"] >= 1
    offset = console_size(console)
    wait_for_round(console, r"internet=seen 192\.168\.96\.81$", offset, timeout=120)
    assert lan_get(box, address, timeout=3) is None
    assert "%s/32" % address not in box.host("compute2").run(["ip", "addr"]).stdout
    assert address in host_facts(box.host("compute2"))["floating_ips"]  # still allocated, kept by compute2
    released = floating_run(box, "release", address=address)
    assert released.rc == 0 and "(released)" in released.output
    assert address not in host_facts(box.host("compute2"))["floating_ips"]


@pytest.mark.parametrize("extra, message", [
    ({"floating_action": "associate", "vm_name": "gn-b",
      "novalite_floating_ranges": [{"pool": "nova", "range": "10.1.200.0/28"}]},
     "overlaps the fixed range 10.1.0.0/16 of network private"),
    ({"floating_action": "release", "address": "192.168.96.129", "project_id": "someone-else"},
     "floating IP 192.168.96.129 belongs to project default, not to someone-else"),
    ({"floating_action": "associate", "vm_name": "gn-b", "pool": "no pool"}, "pool 'no pool'"),
    ({"floating_action": "associate", "vm_name": "gn-b",
      "novalite_floating_ranges": [{"pool": "nova", "range": "192.168.96.129/32"}]},
     "floating IP pool nova is exhausted"),
    ({"floating_action": "associate", "vm_name": "gn-z"}, "no instance named gn-z"),
    ({"floating_action": "allocate", "novalite_floating_ranges": [{"pool": "nova", "range": "192.168.96.1-"}]},
     "floating_ranges[0].range"),
], ids=["overlaps", "other project", "pool name", "exhausted", "unknown instance", "bad range"])
def test_bad_floating_ip_requests_are_refused_and_change_nothing(box, guests, extra, message):
    assert guests["records"]
    before = everything(box)
    run = FlowRun(box, FLOATING_IP, dict(inventory_vars(), **extra)).finish()
    assert run.rc != 0 and message in run.output, run.output[-3000:]
    assert everything(box) == before


def test_a_public_interface_that_does_not_exist_is_refused(box, guests):
    """nova_network refuses it before it changes anything; in a create the undo leaves nothing of the instance."""
    assert guests["records"]
    host = box.host("compute1")
    before = host_state(host)
    refused = run_module(box, "compute1", "nova_network", {"network": NETWORK, "host": "compute1",
                                                           "public_interface": "eth9"})
    assert refused.get("failed") and refused["msg"] == "public_interface eth9 does not exist on this host", refused
    assert host_state(host) == before
    run = run_flow(box, CREATE_VM, inventory_vars(vm_name="gn-x", target_host="compute1",
                                                  novalite_public_interface="eth9"), may_fail=True)
    assert run.rc != 0 and "failed at step network" in run.output
    assert "public_interface eth9 does not exist on this host" in run.output
    assert "gn-x" not in instances_named(box, "gn-")
    assert sorted(host_facts(host)["fixed_ips"]) == [fixed_ip(guests["records"]["gn-a"])]
    assert host_state(host)["iptables"] == before["iptables"] and host_state(host)["processes"] == before["processes"]


def test_a_create_with_a_floating_range_overlapping_the_fixed_range_is_refused_before_anything_is_made(box, guests):
    assert guests["records"]
    before = everything(box)
    run = run_flow(box, CREATE_VM, dict(inventory_vars(vm_name="gn-y", floating_ip=True),
                                        novalite_floating_ranges=[{"pool": "nova", "range": "10.1.128.0/28"}]),
                   may_fail=True)
    assert run.rc != 0 and "overlaps the fixed range 10.1.0.0/16 of network private" in run.output
    assert "Build the instances on their hosts" not in run.output  # refused on the controller
    assert everything(box)["hosts"] == before["hosts"]


def test_delete_leaves_no_rule_address_process_or_file_behind(box, guests):
    records = guests["records"]
    for name in ("gn-a", "gn-b"):
        run_flow(box, DELETE_VM, {"vm_name": name})
    for host in box.hosts:
        nat = host.run(["iptables-save", "-t", "nat"]).stdout
        assert not re.search(r"192\.168\.96\.1[23]\d", nat), nat
        assert not [r for r in records.values() if "%s/32" % fixed_ip(r) in nat], nat
        assert not re.search(r"192\.168\.96\.1[23]\d/32", host.run(["ip", "addr"]).stdout)
        facts = host_facts(host)
        assert facts["floating_ips"] == {} and facts["floating_associations"] == {} and facts["fixed_ips"] == {}
        assert host.run(["cat", "/var/lib/novalite/networks/nova-br100.hosts"]).stdout == ""
        for record in records.values():
            assert not host.instance_dir(record["name"]).exists()
        logs = host.run(["sh", "-c", "cat /var/lib/novalite/networks/*.log"]).stdout
        assert PASSWORD not in logs and PASSWORD not in json.dumps(facts)
    take_network_down(box, NETWORK)
    for host in box.hosts:
        for table in ("nat", "filter"):
            assert "nova-" not in host.run(["iptables-save", "-t", table]).stdout, table
        addresses = host.run(["ip", "addr"]).stdout
        assert "169.254.169.254" not in addresses and "10.1.0." not in addresses
        processes = namespace_processes(host)
        assert not [p for p in processes if "dnsmasq" in p or "metadata" in p], processes
        assert host.run(["ls", "-A", "/var/lib/novalite/networks"]).stdout == ""
    assert controller_state(box) is None or all(
        PASSWORD.encode() not in content for content in controller_state(box).values())
