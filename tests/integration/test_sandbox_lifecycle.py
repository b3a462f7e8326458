"""Issue 2 acceptance: the sandbox is isolated from the machine and teardown leaves nothing."""

import os
import subprocess

from guests import pings
from sandbox import Sandbox, netns_pids, pid_alive

SANDBOX_PROCESS_NAMES = {"libvirtd", "qemu-system-x86", "dnsmasq", "sleep", "nsenter", "unshare"}


def machine_state():
    """What the sandbox must leave exactly as it found it in the machine's own namespace."""
    def out(*args):
        return subprocess.run(args, capture_output=True, text=True, check=False).stdout
    return {
        "netns": sorted(out("ip", "netns", "list").split("\n")),
        "links": out("ip", "-o", "link", "show"),
        "addresses": out("ip", "-o", "addr", "show"),
        "routes": out("ip", "route", "show"),
        "iptables": _without_counters(out("iptables-save")),
        "ebtables": out("ebtables-save"),
    }


def _without_counters(text):
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


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


def test_up_then_down_leaves_the_machine_as_before(guest_image):
    before, pids_before = machine_state(), sandbox_kind_pids()
    box = Sandbox("lc%d" % os.getpid(), host_count=2)
    try:
        box.up(build_image=False)
        host = box.host("compute1")
        # a daemon started inside a host, like the modules' dnsmasq, must be stopped too
        host.run(["dnsmasq", "--conf-file=", "--port=0", "--pid-file=/run/test-dnsmasq.pid"])
        inside = [pid for h in box.hosts for pid in netns_pids(h.netns)]
        assert len(inside) >= 5  # 2 anchors, 2 libvirtd, dnsmasq
        # nothing of the sandbox is plugged into the machine's own namespace
        assert machine_state()["links"] == before["links"]
        assert not _reaches_machine(host)
    finally:
        box.down()
    assert [pid for pid in inside if pid_alive(pid)] == []
    assert sandbox_kind_pids() - pids_before == set()
    assert machine_state() == before
    assert not box.state_dir.exists()


def _reaches_machine(host):
    """Whether the host namespace can reach any address of the machine's own interfaces."""
    out = subprocess.run(["ip", "-o", "-4", "addr", "show", "scope", "global"], capture_output=True,
                         text=True, check=True).stdout
    addresses = [line.split()[3].split("/")[0] for line in out.splitlines()]
    return any(pings(host, address) for address in addresses)


def test_each_host_has_its_own_libvirtd_and_identity(sandbox):
    uris, names, sockets = set(), set(), set()
    for host in sandbox.hosts:
        names.add(host.run(["hostname"]).stdout.strip())
        uris.add(host.run(["virsh", "-q", "-c", "qemu:///system", "uri"]).stdout.strip())
        sockets.add(os.stat(host.state_dir / "run" / "libvirt" / "libvirt-sock").st_ino)
        assert "eth0" in host.run(["ip", "-o", "link", "show"]).stdout
    assert names == {"compute1", "compute2"}
    assert uris == {"qemu:///system"}
    assert len(sockets) == 2
    # hosts see each other on the provider network
    assert pings(sandbox.host("compute1"), sandbox.host("compute2").address)
