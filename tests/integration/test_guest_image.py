"""The test guest image boots and does everything later tests rely on.

Runs on this machine alone (root; qemu TCG, dnsmasq, genisoimage), without the
rest of novalite: a private network namespace holds a bridge, a dnsmasq in
static mode and the tap of a plain qemu guest booted from the built image.
"""
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time

import pytest

from guests import make_config_drive, world_readable_dir
from sandbox import stop_pids

GUEST_MAC = "fa:16:3e:00:00:02"
GUEST_IP = "10.1.0.42"
BRIDGE_IP = "10.1.0.3"
INSTANCE_UUID = "5c0a1f3e-7d2b-4c6a-9e1f-0b8d2a4c6e10"
INSTANCE_NAME = "novalite test vm"
HOSTNAME = "guest-one"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHnovalitetestkey test"
ADMIN_PASS = "Adm1n-" + secrets.token_hex(6)
USER_DATA_MARKER = "novalite-user-data-ran"
BOOT_TIMEOUT = 90

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, tap, qemu)")


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def in_ns(ns, *cmd):
    return ["ip", "netns", "exec", ns, *cmd]


def stop(proc):
    """TERM, then KILL; reaps the process so its pid is really gone."""
    if proc.poll() is None:
        stop_pids([proc.pid])
        proc.wait(timeout=5)
    assert not os.path.exists(f"/proc/{proc.pid}"), f"pid {proc.pid} still exists"


@pytest.fixture(scope="module")
def workdir():
    path = world_readable_dir("nlgi-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def netns():
    """A namespace with bridge br100 (10.1.0.3/16) and tap0 on it; no route out."""
    ns = f"nlgi-{secrets.token_hex(4)}"
    sh("ip", "netns", "add", ns)
    try:
        for cmd in (["link", "set", "lo", "up"],
                    ["link", "add", "br100", "type", "bridge"],
                    ["addr", "add", f"{BRIDGE_IP}/16", "dev", "br100"],
                    ["link", "set", "br100", "up"],
                    ["tuntap", "add", "dev", "tap0", "mode", "tap"],
                    ["link", "set", "tap0", "master", "br100", "up"]):
            sh("ip", "-n", ns, *cmd)
        yield ns
    finally:
        sh("ip", "netns", "del", ns, check=False)
        assert ns not in sh("ip", "netns", "list").stdout


@pytest.fixture(scope="module")
def dnsmasq(netns, workdir):
    hosts = workdir / "dhcp-hosts"
    hosts.write_text(f"{GUEST_MAC},guest.novalocal,{GUEST_IP}\n")
    hosts.chmod(0o644)
    proc = subprocess.Popen(in_ns(
        netns, "dnsmasq", "--keep-in-foreground", "--strict-order", "--bind-interfaces",
        "--conf-file=", f"--pid-file={workdir / 'dnsmasq.pid'}",
        f"--listen-address={BRIDGE_IP}", "--except-interface=lo",
        "--dhcp-range=set:private,10.1.0.2,static,255.255.0.0,120s",
        f"--dhcp-hostsfile={hosts}", "--leasefile-ro", "--no-hosts", "--no-resolv"))
    try:
        time.sleep(0.5)
        assert proc.poll() is None, "dnsmasq exited at start"
        yield proc
    finally:
        stop(proc)


def config_drive(workdir):
    """The guest's config drive ISO: keys, admin password, network data and user data."""
    meta = {"uuid": INSTANCE_UUID, "name": INSTANCE_NAME, "hostname": HOSTNAME,
            "public_keys": {"k": PUBLIC_KEY},
            "keys": [{"name": "k", "type": "ssh", "data": PUBLIC_KEY}],
            "admin_pass": ADMIN_PASS, "launch_index": 0, "availability_zone": "nova"}
    return make_config_drive(workdir, json.dumps(meta), user_data=f"#!/bin/sh\necho {USER_DATA_MARKER} $(hostname)\n",
                             network_data_json=json.dumps({"links": [], "networks": []}))


class Guest:
    def __init__(self, proc, console, monitor, started):
        self.proc, self.console, self.monitor, self.started = proc, console, monitor, started

    def log(self):
        return self.console.read_text(errors="replace") if self.console.exists() else ""

    def wait_for(self, pattern, timeout=None):
        """The first console line matching pattern, and seconds since qemu started.

        Waits until BOOT_TIMEOUT after qemu started, or timeout seconds from now."""
        deadline = self.started + BOOT_TIMEOUT if timeout is None else time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.log(), re.MULTILINE)
            if match:
                return match, time.monotonic() - self.started
            if time.monotonic() > deadline:
                pytest.fail(f"no console line matching {pattern!r}:\n{self.log()}")
            assert self.proc.poll() is None, f"qemu exited early:\n{self.log()}"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def guest(guest_image, netns, dnsmasq, workdir):
    overlay = workdir / "disk.qcow2"
    sh("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(guest_image["disk.qcow2"]), str(overlay))
    iso = config_drive(workdir)
    console, monitor = workdir / "console.log", workdir / "monitor.sock"
    started = time.monotonic()
    proc = subprocess.Popen(in_ns(
        netns, "qemu-system-x86_64", "-machine", "accel=tcg", "-m", "128", "-nographic",
        "-kernel", str(guest_image["vmlinuz"]),
        "-initrd", str(guest_image["initrd.img"]),
        "-append", "root=/dev/vda console=ttyS0",
        "-drive", f"file={overlay},if=virtio,format=qcow2",
        "-drive", f"file={iso},if=ide,index=1,media=cdrom,format=raw,readonly=on",
        "-netdev", "tap,id=net0,ifname=tap0,script=no,downscript=no",
        "-device", f"virtio-net-pci,netdev=net0,mac={GUEST_MAC}",
        "-serial", f"file:{console}", "-monitor", f"unix:{monitor},server,nowait"),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield Guest(proc, console, monitor, started)
    finally:
        stop(proc)


def test_guest_boots_and_reports(guest):
    _lease, lease_s = guest.wait_for(rf"^lease {re.escape(GUEST_IP)} {GUEST_MAC}$")
    _ready, ready_s = guest.wait_for(r"^novalite-guest ready$")
    print(f"\nqemu start -> lease {lease_s:.1f}s, -> ready {ready_s:.1f}s")
    for line in ("novalite-guest modules ok",
                 "novalite-guest acpid ok",
                 r"memory \d+ kB vcpus=1",
                 r"disk novalite-test-disk size=33554432",
                 r"disk-fs size=\d+",
                 rf"config-drive uuid={INSTANCE_UUID} hostname={HOSTNAME}",
                 rf"config-drive name={INSTANCE_NAME}",
                 "config-drive public_keys=1",
                 "config-drive admin_pass=set",
                 "config-drive network_data=present",
                 rf"{USER_DATA_MARKER} {HOSTNAME}",
                 "user-data exit=0"):
        guest.wait_for(rf"^{line}\r?$", timeout=30)
    assert ADMIN_PASS not in guest.log()


def http_get(ns, url):
    # An empty ProxyHandler: a proxy from the environment must not take the request.
    code = ("import sys, urllib.request as u; o = u.build_opener(u.ProxyHandler({})); "
            "print(o.open(sys.argv[1], timeout=10).read().decode(), end='')")
    return subprocess.run(in_ns(ns, sys.executable, "-c", code, url),
                          capture_output=True, text=True, timeout=30, check=False)


def test_guest_answers_ping_and_http(guest, netns):
    guest.wait_for(r"^novalite-guest ready$")
    ping = sh(*in_ns(netns, "busybox", "ping", "-c", "2", "-W", "3", GUEST_IP), check=False)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    for port in (80, 8080):
        reply = http_get(netns, f"http://{GUEST_IP}:{port}/")
        assert reply.returncode == 0, reply.stderr
        assert reply.stdout == f"novalite-guest {HOSTNAME} {GUEST_IP} {GUEST_MAC}\n"


def test_acpi_power_button_shuts_guest_down(guest):
    guest.wait_for(r"^novalite-guest ready$")
    with socket.socket(socket.AF_UNIX) as monitor:
        monitor.connect(str(guest.monitor))
        monitor.sendall(b"system_powerdown\n")
        started = time.monotonic()
        try:
            guest.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"qemu still running 30s after system_powerdown:\n{guest.log()}")
    print(f"\nsystem_powerdown -> qemu exit {time.monotonic() - started:.2f}s")
    assert "novalite-guest acpi power button: powering off" in guest.log()
    assert ADMIN_PASS not in guest.log()
