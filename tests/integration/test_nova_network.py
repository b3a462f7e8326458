"""nova_network and ipam_allocate on the sandbox: real bridges, iptables, dnsmasq and TCG guests.

Every test leaves both hosts as it found them: guests removed, instances released, the network
taken down with its bridge (eth0 gets its address and default route back).
"""

import json
import os
import shutil
import signal
import time

import pytest

from guests import boot_guest, pings, wait_for_console, world_readable_dir
from network_ansible import PLAYBOOKS, PRIVATE_NETWORK, host_state, take_network_down
from sandbox import pid_alive
from sandbox_ansible import PlaybookRun, host_facts, run_module, run_playbook
from virt_instances import host_libvirt, remove_instances

GUEST_LEASE_TIMEOUT = 300  # TCG guests share two cores with other engineers' runs
HOSTS_FILE = "/var/lib/novalite/networks/nova-br100.conf"
DNS_HOSTS_FILE = "/var/lib/novalite/networks/nova-br100.hosts"
IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"


def instance(number, host=None):
    entry = {"instance_uuid": "90844617-d71f-474f-9cdf-%012x" % number, "instance_name": "instance-%08x" % number,
             "hostname": "vm%d" % number}
    return dict(entry, host=host) if host else entry


@pytest.fixture
def network_down(sandbox):
    """After the test: the network taken down everywhere, and ip_forward as it was."""
    forwarding = {host.name: host.run(["cat", IP_FORWARD]).stdout.strip() for host in sandbox.hosts}
    yield
    take_network_down(sandbox)
    for host in sandbox.hosts:
        host.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=" + forwarding[host.name]])


@pytest.fixture
def controller():
    """The controller's ledger directory and a directory for the playbooks' recorded results."""
    dirs = {"state_dir": world_readable_dir("nl-network-state-"),
            "results_dir": world_readable_dir("nl-network-results-")}
    yield dirs
    for path in dirs.values():
        shutil.rmtree(path)


@pytest.fixture
def guests(guest_image):
    booted = []

    def boot(host, name, mac):
        booted.append((host, name))
        with host_libvirt(host) as conn:
            return boot_guest(conn, host, name, guest_image, mac)
    yield boot
    for host, name in booted:
        remove_instances(host, [name])


def allocate(sandbox, controller, requests, check=False):
    """allocate.yml; returns ({host: recorded results}, the PlaybookRun)."""
    extra = {"network": PRIVATE_NETWORK, "requests": requests, "state_dir": str(controller["state_dir"]),
             "results_dir": str(controller["results_dir"])}
    run = run_playbook(sandbox, PLAYBOOKS / "allocate.yml", extra, check=check)
    results = {path.stem: json.loads(path.read_text()) for path in controller["results_dir"].glob("*.json")}
    return results, run


def ipam_only(sandbox, controller, requests, check=False, release=(), network=None):
    extra = {"network": network or PRIVATE_NETWORK, "requests": requests, "release": list(release),
             "state_dir": str(controller["state_dir"]), "results_dir": str(controller["results_dir"])}
    run_playbook(sandbox, PLAYBOOKS / "ipam_only.yml", extra, check=check)
    return json.loads((controller["results_dir"] / "ipam.json").read_text())


def dnsmasq_argv(pid):
    """The argv of a live (not zombie) process, or None."""
    if not pid_alive(pid):
        return None
    try:
        with open("/proc/%d/cmdline" % pid) as cmdline:
            return cmdline.read().split("\0")[:-1]
    except (FileNotFoundError, ProcessLookupError):
        return None


def ip_json(host, *args):
    return json.loads(host.run(["ip", "-j"] + list(args)).stdout)


def ipv4_of(host, device):
    """[(address, prefixlen)] of the device, in the kernel's order."""
    entries = ip_json(host, "-4", "addr", "show", "dev", device)
    return [(a["local"], a["prefixlen"]) for e in entries for a in e.get("addr_info", ())]


def test_nova_network_check_real_idempotent_and_the_host_it_leaves(sandbox, network_down):
    host = sandbox.host("compute1")
    args = {"network": PRIVATE_NETWORK, "host": "compute1", "instances": [instance(10)]}
    untouched = host_state(host)
    checked = run_module(sandbox, "compute1", "nova_network", args, check=True, diff=True)
    assert checked["changed"] is True and not checked.get("failed"), checked
    assert {"facts", "bridge", "iptables", "dnsmasq"} <= set(checked["diff"]["after"])
    assert host_state(host) == untouched, "check mode changed the host"

    real = run_module(sandbox, "compute1", "nova_network", args, diff=True)
    assert real["changed"] is True and not real.get("failed"), real
    fixed_ip = real["fixed_ips"][0]
    assert (fixed_ip["address"], real["dhcp_server"]) == ("10.1.0.2", "10.1.0.3")  # Nova's order: guest, then host
    for check in (True, False):
        again = run_module(sandbox, "compute1", "nova_network", args, check=check, diff=True)
        assert again["changed"] is False, again["diff"]
        assert again["fixed_ips"] == real["fixed_ips"] and again["dnsmasq_pid"] == real["dnsmasq_pid"]

    assert ipv4_of(host, "br100") == [("10.1.0.3", 16), ("192.168.96.80", 24)]
    assert ipv4_of(host, "eth0") == []
    assert ip_json(host, "link", "show", "dev", "eth0")[0]["master"] == "br100"
    assert {"dst": "default", "gateway": "192.168.96.254", "dev": "br100"}.items() <= \
        ip_json(host, "route", "show", "default")[0].items()
    assert pings(host, "192.168.96.81"), "compute1 lost the provider network when eth0 moved onto br100"
    assert host.run(["cat", IP_FORWARD]).stdout.strip() == "1"
    saved = host.run(["iptables-save", "-t", "filter"]).stdout
    assert saved.count("-A FORWARD -j nova-fwd-br100\n") == 1 and saved.count("-A INPUT -j nova-in-br100\n") == 1
    assert "-A nova-fwd-br100 -i br100 -j ACCEPT\n-A nova-fwd-br100 -o br100 -j ACCEPT\n" in saved
    assert dnsmasq_argv(real["dnsmasq_pid"])[1:] == [
        "--strict-order", "--bind-interfaces", "--conf-file=", "--domain=novalocal",
        "--pid-file=/var/lib/novalite/networks/nova-br100.pid", "--listen-address=10.1.0.3",
        "--except-interface=lo", "--dhcp-range=set:private,10.1.0.2,static,255.255.0.0,120s",
        "--dhcp-lease-max=65536", "--dhcp-hostsfile=" + HOSTS_FILE, "--leasefile-ro", "--no-hosts",
        "--addn-hosts=" + DNS_HOSTS_FILE, "--no-resolv", "--server=8.8.4.4"]
    assert host.run(["cat", HOSTS_FILE]).stdout == "%s,vm10.novalocal,10.1.0.2\n" % fixed_ip["mac"]
    assert host.run(["cat", DNS_HOSTS_FILE]).stdout == "10.1.0.2\tvm10.novalocal\n"
    nat = host.run(["iptables-save", "-t", "nat"]).stdout
    assert "-A nova-network-snat -s 10.1.0.0/16 -o br100 -j SNAT --to-source 192.168.96.80\n" in nat
    assert "-A POSTROUTING -j nova-network-POSTROUTING\n-A POSTROUTING -j nova-network-snat\n" in nat
    assert ("-A nova-network-PREROUTING -d 169.254.169.254/32 -i br100 -p tcp -m tcp --dport 80 -j DNAT "
            "--to-destination 10.1.0.3:8775\n") in nat and "MASQUERADE" not in nat
    assert "169.254.169.254/32" in host.run(["ip", "-4", "addr", "show", "dev", "lo"]).stdout
    server = dnsmasq_argv(real["metadata_pid"])
    assert server[1:4] == ["/var/lib/novalite/networks/nova-br100.metadata.py", "--listen=10.1.0.3", "--port=8775"]
    refused = host.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://10.1.0.3:8775/"]).stdout
    assert refused == "404"  # the host's own address is no instance
    assert host.run(["stat", "-c", "%a", HOSTS_FILE, os.path.dirname(HOSTS_FILE)]).stdout.split() == ["644", "755"]
    facts = host_facts(host)
    assert facts["fixed_ips"]["10.1.0.2"] == fixed_ip
    assert facts["networks"][PRIVATE_NETWORK["uuid"]]["dhcp_server"] == "10.1.0.3"
    vif = real["network_info"][fixed_ip["instance_uuid"]][0]
    assert (vif["address"], vif["id"]) == (fixed_ip["mac"], fixed_ip["vif_id"])
    assert vif["network"]["subnets"][0]["meta"] == {"dhcp_server": "10.1.0.3"}


def bad(network=None, **instance_fields):
    return {"network": dict(PRIVATE_NETWORK, **(network or {})),
            "instances": [dict(instance(20), **instance_fields)]}


BAD_INPUT = [
    ("compute2", bad({"cidr": "10.1.0.0/33"}), "network.cidr '10.1.0.0/33': expected an IPv4 network in CIDR form"),
    ("compute2", bad({"gateway": "10.2.0.1"}), "network.gateway 10.2.0.1 is not a host address of 10.1.0.0/16"),
    ("compute2", bad({"dhcp_start": "192.168.0.2"}), "network.dhcp_start 192.168.0.2 is not a host address"),
    ("compute2", {"network": dict(PRIVATE_NETWORK, uuid="5f1c8f52-0d55-4a39-9b7e-0d6f3c1a2b3c", cidr="10.9.0.0/29",
                                  bridge="br109", bridge_interface=None),
                  "instances": [instance(n) for n in range(30, 36)]},
     "network private (5f1c8f52-0d55-4a39-9b7e-0d6f3c1a2b3c) is exhausted: 7 addresses needed, 5 free"),
    ("compute2", bad(mac="fa:16:3e:zz:00:01"), "instances[0].mac 'fa:16:3e:zz:00:01': expected a MAC address"),
    ("compute2", bad(mac="01:00:5e:00:00:01"), "expected a unicast MAC address"),
    ("compute2", bad({"bridge": "br100-much-too-long"}), "network.bridge 'br100-much-too-long': expected a network"),
    ("compute2", bad({"bridge": "br:100"}), "network.bridge 'br:100': expected a network device name"),
    ("compute1", bad(address="10.1.0.2"), "address 10.1.0.2 requested for instance 90844617-d71f-474f-9cdf-"
                                          "000000000014 is already held by instance"),
    ("compute1", bad(address="10.1.0.1"), "is not in the pool of network private (e011b388-163b-4080-a083-"
                                          "bb63ebed7f6a): it is the gateway"),
    ("compute1", bad({"reserved": ["10.1.0.100-10.1.0.199"]}, address="10.1.0.150"), "it is reserved"),
    ("compute2", bad(hostname="vm,20"), "instances[0].hostname 'vm,20': expected a DNS label"),
    ("compute2", bad(hostname="vm 20"), "instances[0].hostname 'vm 20': expected a DNS label"),
    ("compute2", bad(hostname="vm\n20"), "expected a DNS label"),
]


def test_bad_input_fails_naming_the_value_and_changes_nothing(sandbox, network_down):
    setup = run_module(sandbox, "compute1", "nova_network", {"network": PRIVATE_NETWORK, "instances": [instance(10)]})
    assert setup["fixed_ips"][0]["address"] == "10.1.0.2", setup
    for name, args, message in BAD_INPUT:
        host = sandbox.host(name)
        before = host_state(host)
        result = run_module(sandbox, name, "nova_network", args)
        assert result.get("failed") and message in result["msg"], (message, result.get("msg"))
        assert host_state(host) == before, "a failed call changed %s: %s" % (name, message)


def test_ipam_allocate_check_real_idempotent_and_refusals(sandbox, controller, network_down):
    requests = [instance(1, "compute1"), instance(2, "compute2")]
    ledger = controller["state_dir"] / "ipam.json"
    checked = ipam_only(sandbox, controller, requests, check=True)
    assert checked["changed"] is True and not ledger.exists()
    real = ipam_only(sandbox, controller, requests)
    assert real["changed"] is True and ledger.exists()
    assert [a["address"] for a in real["allocations"]] == [a["address"] for a in checked["allocations"]] == \
        ["10.1.0.2", "10.1.0.4"]
    assert real["dhcp_servers"] == {"compute1": "10.1.0.3", "compute2": "10.1.0.5"}
    for check in (True, False):
        again = ipam_only(sandbox, controller, requests, check=check)
        assert again["changed"] is False and again["allocations"] == real["allocations"]
    saved = ledger.read_text()
    taken = ipam_only(sandbox, controller, [dict(instance(3, "compute1"), address="10.1.0.4")])
    assert taken.get("failed") and "address 10.1.0.4 requested for instance" in taken["msg"]
    assert "is already held by instance 90844617-d71f-474f-9cdf-000000000002 (host compute2)" in taken["msg"]
    bad_mac = ipam_only(sandbox, controller, [dict(instance(3, "compute1"), mac="ff:ff:ff:ff:ff:ff")])
    assert bad_mac.get("failed") and "expected a unicast MAC address" in bad_mac["msg"]
    assert ledger.read_text() == saved


def test_guests_get_their_allocated_address_from_their_hosts_dnsmasq(sandbox, controller, guests, network_down):
    requests = [instance(1, "compute1"), instance(2, "compute2")]
    results, _run = allocate(sandbox, controller, requests)
    allocations = {a["host"]: a for a in results["compute1"]["ipam"]["allocations"]}
    consoles = {name: guests(sandbox.host(name), "nwtest-%s" % name, allocations[name]["mac"])
                for name in ("compute1", "compute2")}
    for name, console in consoles.items():
        allocation = allocations[name]
        lease = wait_for_console(console, r"(?m)^lease (\S+) (\S+)\r?$", timeout=GUEST_LEASE_TIMEOUT)
        assert lease.groups() == (allocation["address"], allocation["mac"]), name
        assert pings(sandbox.host(name), allocation["address"], count=2), name

    _results, again = allocate(sandbox, controller, requests)
    assert {host: counts["changed"] for host, counts in again.recap.items()} == {"compute1": 0, "compute2": 0}

    old_pid = results["compute1"]["net"]["dnsmasq_pid"]
    old_argv = dnsmasq_argv(old_pid)
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while dnsmasq_argv(old_pid) is not None and time.monotonic() < deadline:  # [] while it exits
        time.sleep(0.1)
    assert dnsmasq_argv(old_pid) is None
    restored, run = allocate(sandbox, controller, requests)
    assert run.recap["compute1"]["changed"] == 1 and run.recap["compute2"]["changed"] == 0
    new_pid = restored["compute1"]["net"]["dnsmasq_pid"]
    assert new_pid != old_pid and dnsmasq_argv(new_pid) == old_argv


def test_release_then_allocate_reuses_the_address(sandbox, controller, network_down):
    results, _run = allocate(sandbox, controller, [instance(1, "compute1"), instance(2, "compute1")])
    pid = results["compute1"]["net"]["dnsmasq_pid"]
    assert [a["address"] for a in results["compute1"]["ipam"]["allocations"]] == ["10.1.0.2", "10.1.0.4"]
    release = {"network": PRIVATE_NETWORK, "state": "absent",
               "instances": [{"instance_uuid": instance(2)["instance_uuid"]}]}
    released = run_module(sandbox, "compute1", "nova_network", release)
    assert released["changed"] and released["released"] == ["10.1.0.4"] and released["dnsmasq_pid"] == pid
    forgotten = ipam_only(sandbox, controller, [], release=[instance(2)["instance_uuid"]])
    assert forgotten["released"] == ["10.1.0.4"]
    hosts_lines = sandbox.host("compute1").run(["cat", HOSTS_FILE]).stdout.splitlines()
    assert [line.rsplit(",", 1)[1] for line in hosts_lines] == ["10.1.0.2"]
    again, _run = allocate(sandbox, controller, [instance(3, "compute1")])
    assert again["compute1"]["ipam"]["allocations"][0]["address"] == "10.1.0.4"
    assert again["compute1"]["net"]["dnsmasq_pid"] == pid, "a hosts change must be a SIGHUP, not a restart"


def test_release_works_from_the_hosts_record_when_the_definition_is_now_invalid(sandbox, controller, network_down):
    results, _run = allocate(sandbox, controller, [instance(1, "compute1")])
    pid = results["compute1"]["net"]["dnsmasq_pid"]
    broken = dict(PRIVATE_NETWORK, cidr="10.1.0.0/33", bridge="br:100")  # the inventory's definition, edited since
    host = sandbox.host("compute1")
    refused = run_module(sandbox, "compute1", "nova_network", {"network": broken, "instances": [instance(2)]})
    assert refused.get("failed") and "network.cidr '10.1.0.0/33'" in refused["msg"], refused
    uuid = instance(1)["instance_uuid"]
    release = {"network": broken, "state": "absent", "instances": [{"instance_uuid": uuid}]}
    released = run_module(sandbox, "compute1", "nova_network", release)
    assert not released.get("failed"), released
    assert released["changed"] and released["released"] == ["10.1.0.2"] and released["dnsmasq_pid"] == pid
    assert host.run(["cat", HOSTS_FILE]).stdout == ""
    assert host_facts(host)["fixed_ips"] == {}
    assert run_module(sandbox, "compute1", "nova_network", release)["changed"] is False
    forgotten = ipam_only(sandbox, controller, [], release=[uuid], network=broken)
    assert not forgotten.get("failed") and forgotten["released"] == ["10.1.0.2"], forgotten


def test_two_playbooks_started_together_never_share_an_address_or_mac(sandbox, controller, network_down):
    batches = [[instance(100 + 10 * run + n, "compute%d" % (1 + n % 2)) for n in range(4)] for run in range(2)]
    runs = []
    try:
        for number, requests in enumerate(batches):
            results_dir = controller["results_dir"] / ("run%d" % number)
            results_dir.mkdir()
            extra = {"network": PRIVATE_NETWORK, "requests": requests, "state_dir": str(controller["state_dir"]),
                     "results_dir": str(results_dir), "settle_seconds": 3}  # both gather before either commits
            runs.append(PlaybookRun(sandbox, PLAYBOOKS / "allocate.yml", extra))
        finished = [run.finish(timeout=600) for run in runs]
    finally:
        for run in runs:
            run.stop()
    for run in finished:
        assert run.rc == 0, run.output[-4000:]
    facts = [host_facts(host) for host in sandbox.hosts]
    fixed_ips = [record for document in facts for record in document["fixed_ips"].values()]
    dhcp_servers = [document["networks"][PRIVATE_NETWORK["uuid"]]["dhcp_server"] for document in facts]
    addresses = [r["address"] for r in fixed_ips] + dhcp_servers
    assert sorted(r["instance_uuid"] for r in fixed_ips) == sorted(i["instance_uuid"] for b in batches for i in b)
    assert len(set(addresses)) == len(addresses) == 10, addresses
    assert len({r["mac"] for r in fixed_ips}) == 8
    for host, document in zip(sandbox.hosts, facts):
        lines = host.run(["cat", HOSTS_FILE]).stdout.splitlines()
        assert sorted(lines) == sorted("%s,%s.novalocal,%s" % (r["mac"], r["hostname"], r["address"])
                                       for r in document["fixed_ips"].values())


def test_taking_the_network_down_gives_eth0_back(sandbox, controller, network_down):
    results, _run = allocate(sandbox, controller, [instance(1, "compute1"), instance(2, "compute2")])
    pids = [results[name]["net"]["dnsmasq_pid"] for name in ("compute1", "compute2")]
    take_network_down(sandbox)
    for host, pid, address, other in zip(sandbox.hosts, pids, ("192.168.96.80", "192.168.96.81"),
                                         ("192.168.96.81", "192.168.96.80")):
        assert dnsmasq_argv(pid) is None
        assert ipv4_of(host, "eth0") == [(address, 24)]
        assert host.run(["ip", "link", "show", "dev", "br100"], check=False).returncode != 0
        assert "nova-" not in host.run(["iptables-save", "-t", "filter"]).stdout
        assert "nova-" not in host.run(["iptables-save", "-t", "nat"]).stdout
        assert "169.254.169.254" not in host.run(["ip", "addr"]).stdout
        assert results[host.name]["net"]["metadata_pid"] and dnsmasq_argv(results[host.name]["net"]["metadata_pid"]) \
            is None
        assert host.run(["ls", "-A", "/var/lib/novalite/networks"]).stdout == ""
        assert host_facts(host)["networks"] == {} and host_facts(host)["fixed_ips"] == {}
        assert pings(host, other)
        again = run_module(sandbox, host.name, "nova_network",
                           {"network": PRIVATE_NETWORK, "state": "absent", "remove_bridge": True})
        assert again["changed"] is False, again
