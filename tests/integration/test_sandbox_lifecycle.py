"""Issue 2 acceptance: the sandbox is isolated from the machine and teardown leaves nothing,
with and without SSH access; the switch is the hosts' router, with an internet beyond it."""

import ipaddress
import os
import subprocess

import pytest

from guests import pings
from sandbox import Sandbox, netns_pids, pid_alive
from sandbox_ansible import BIN, REPO_ROOT, ansible_env
from tcp_probe import probe_command, probe_server

SANDBOX_PROCESS_NAMES = {"libvirtd", "qemu-system-x86", "dnsmasq", "sleep", "nsenter", "unshare", "sshd", "ssh"}
INTERNET_PORT = 8080


def machine_state():
    """What the sandbox must leave exactly as it found it in the machine's own namespace."""
    def out(*args):
        return subprocess.run(args, capture_output=True, text=True, check=False).stdout
    return {
        "netns": sorted(out("ip", "netns", "list").split("\n")),
        "links": out("ip", "-o", "link", "show"),
        "addresses": out("ip", "-o", "addr", "show"),
        "routes": out("ip", "route", "show", "table", "all"),
        "routes6": out("ip", "-6", "route", "show", "table", "all"),
        "forwarding": out("sysctl", "net.ipv4.ip_forward"),
        "iptables": _without_counters(out("iptables-save")),
        "ebtables": out("ebtables-save"),
        # the machine's own ssh setup: never read by the sandbox's ssh, never written
        "root_ssh": _listing(os.path.expanduser("~/.ssh")),
        "ansible_control_sockets": _listing(os.path.expanduser("~/.ansible/cp")),
        "etc_ssh": _listing("/etc/ssh"),
    }


def _without_counters(text):
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


def _listing(path):
    """{name: (size, mtime)} of a directory's entries; None when it does not exist."""
    try:
        return {entry.name: (entry.stat().st_size, entry.stat().st_mtime_ns) for entry in os.scandir(path)}
    except FileNotFoundError:
        return None


def sandbox_kind_pids():
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and pid_alive(int(entry)):
            try:
                name = open("/proc/%s/comm" % entry).read().strip()
            except OSError:
                continue
            if name in SANDBOX_PROCESS_NAMES:
                pids.add(int(entry))
    return pids


@pytest.mark.parametrize("ssh", [False, True], ids=["local", "ssh"])
def test_up_then_down_leaves_the_machine_as_before(guest_image, ssh):
    before, pids_before = machine_state(), sandbox_kind_pids()
    box = Sandbox("lc%d" % os.getpid(), host_count=2, ssh=ssh)
    try:
        box.up(build_image=False)
        host = box.host("compute1")
        # a daemon started inside a host, like the modules' dnsmasq, must be stopped too
        host.run(["dnsmasq", "--conf-file=", "--port=0", "--pid-file=/run/test-dnsmasq.pid"])
        inside = [pid for h in box.hosts for pid in netns_pids(h.netns)]
        assert len(inside) >= (7 if ssh else 5)  # 2 anchors, 2 libvirtd, dnsmasq (, 2 sshd)
        during = machine_state()
        if ssh:
            # the management link is all that the sandbox plugs into the machine's namespace
            added = set(during["links"].splitlines()) - set(before["links"].splitlines())
            assert len(added) == 1 and (": %s@" % box.mgmt_link) in added.pop()
            _use_ssh(box)
        else:
            assert during["links"] == before["links"]
        assert not _reaches_machine(host)
    finally:
        box.down()
    assert [pid for pid in inside if pid_alive(pid)] == []
    assert sandbox_kind_pids() - pids_before == set()
    assert machine_state() == before
    assert not box.state_dir.exists()


def _use_ssh(box):
    """What a benchmark does: ssh to every host, and Ansible, whose control masters stay behind."""
    for host in box.hosts:
        assert subprocess.run(host.ssh_command(["true"]), check=False, capture_output=True).returncode == 0
    ping = subprocess.run([str(BIN / "ansible"), "compute", "-i", str(box.ssh_inventory_path), "-m", "ping"], check=False,
                          capture_output=True, text=True, env=ansible_env(box), cwd=REPO_ROOT)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert list(box.control_path_dir.iterdir())  # the masters are there for `down` to stop


def _reaches_machine(host):
    """Whether the host namespace can reach any address of the machine's own interfaces, the
    management link's included (a host only answers the machine there)."""
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True).stdout
    addresses = [line.split()[3].split("/")[0] for line in out.splitlines() if " lo " not in line]
    return any(pings(host, address) for address in addresses)


def test_each_host_has_its_own_libvirtd_and_identity(sandbox):
    uris, names, sockets, host_uuids = set(), set(), set(), set()
    for host in sandbox.hosts:
        names.add(host.run(["hostname"]).stdout.strip())
        uris.add(host.run(["virsh", "-q", "-c", "qemu:///system", "uri"]).stdout.strip())
        sockets.add(os.stat(host.state_dir / "run" / "libvirt" / "libvirt-sock").st_ino)
        capabilities = host.run(["virsh", "-q", "-c", "qemu:///system", "capabilities"]).stdout
        host_uuids.add(capabilities.split("<uuid>", 1)[1].split("</uuid>", 1)[0])
        assert "eth0" in host.run(["ip", "-o", "link", "show"]).stdout
    assert names == {"compute1", "compute2"}
    assert uris == {"qemu:///system"}
    assert len(sockets) == 2
    assert len(host_uuids) == 2  # libvirt tells hosts apart by it (migration refuses "the same host")
    # hosts see each other on the provider network
    assert pings(sandbox.host("compute1"), sandbox.host("compute2").address)


def test_hosts_reach_the_router_and_the_internet(sandbox):
    with probe_server(sandbox.switch_command, sandbox.internet_address, [INTERNET_PORT]):
        for host in sandbox.hosts:
            assert pings(host, sandbox.router_address)
            assert pings(host, sandbox.internet_address)
            answer = host.run(probe_command(sandbox.internet_address, INTERNET_PORT)).stdout.split()
            assert answer[1:] == [str(INTERNET_PORT), "probe"]


def test_the_router_has_no_route_to_the_fixed_range(sandbox):
    """What makes SNAT necessary: a guest's own 10.x address gets no answer from the internet."""
    destinations = [line.split()[0] for line in sandbox.switch_run(["ip", "-4", "route", "show"]).stdout.splitlines()]
    assert "default" not in destinations
    assert not any(ipaddress.ip_network(d).overlaps(ipaddress.ip_network("10.0.0.0/8")) for d in destinations)
    lookup = sandbox.switch_run(["ip", "route", "get", "10.1.0.2"], check=False)
    assert lookup.returncode != 0 and "unreachable" in lookup.stderr
    # while the provider network (where a host's SNAT puts a guest's traffic) is connected
    assert "dev sw0" in sandbox.switch_run(["ip", "route", "get", sandbox.hosts[0].address]).stdout


def test_nothing_listens_on_the_internet_address_unless_a_test_starts_it(sandbox):
    """The probe can fail: with no server, the connection is refused."""
    host = sandbox.host("compute1")
    assert host.run(probe_command(sandbox.internet_address, INTERNET_PORT), check=False).returncode != 0
