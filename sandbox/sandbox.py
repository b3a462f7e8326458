#!/usr/bin/env python3
"""Simulated compute hosts on this one machine, for the demo and the tests.

Each host is a network namespace plus a private mount and UTS namespace (see
host-boot.sh) running its own libvirtd. Its "physical" NIC eth0 is a veth plugged into
the bridge sw0 of a switch namespace: the flat provider network of the seed. Nothing is
plugged into the machine's own namespace, so no sandbox namespace has a route out.

Ansible reaches a host with the local connection and an interpreter wrapper that enters
the host's namespaces (bin/python in the host's state dir); playbooks see an ordinary
Debian compute host with qemu:///system, /etc/ansible/facts.d and /var/lib/novalite.

    sandbox.py up [--hosts N] [--name NAME]     bring up (idempotent), print the inventory
    sandbox.py down [--name NAME]               stop every process, delete every namespace
    sandbox.py status | inventory | exec HOST -- CMD...
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

SANDBOX_DIR = Path(__file__).resolve().parent
DEFAULT_ROOT = Path(os.environ.get("NOVALITE_SANDBOX_DIR", "/var/tmp/novalite-sandbox"))
IMAGE_DIR = Path(os.environ.get("NOVALITE_IMAGE_DIR", "/var/tmp/novalite-images"))
HOST_PYTHON = "/usr/bin/python3"  # Debian's, with python3-libvirt/-lxml/-netaddr, as on a real host

PROVIDER_PREFIX = "192.168.96."  # the seed's eth0/br100 network
SWITCH_ADDRESS = PROVIDER_PREFIX + "254"
FIRST_HOST_OCTET = 80  # the seed's compute host was 192.168.96.80
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def sh(*args, check=True, capture=False):
    result = subprocess.run([str(a) for a in args], check=False, text=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.PIPE if capture else None)
    if check and result.returncode != 0:
        raise RuntimeError("%s failed (rc=%d): %s" % (" ".join(map(str, args)), result.returncode,
                                                      (result.stderr or "").strip()))
    return result


def netns_exists(name):
    return Path("/run/netns", name).exists()


def netns_pids(name):
    out = sh("ip", "netns", "pids", name, check=False, capture=True).stdout
    return [int(p) for p in out.split()]


def pid_alive(pid):
    """True while the process exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def stop_pids(pids, timeout=STOP_TIMEOUT):
    """TERM, then KILL whatever is left, and wait until every pid is gone."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reap_children()
            pids = [p for p in pids if pid_alive(p)]
            if not pids:
                return
            time.sleep(0.1)
    raise RuntimeError("processes still alive after SIGKILL: %s" % pids)


def reap_children():
    """Collect exited children of ours (the anchors of hosts this process booted)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Host:
    def __init__(self, sandbox, index):
        self.sandbox = sandbox
        self.index = index
        self.name = "compute%d" % index
        self.netns = "%s-%s" % (sandbox.prefix, self.name)
        self.state_dir = sandbox.state_dir / "hosts" / self.name
        self.address = PROVIDER_PREFIX + str(FIRST_HOST_OCTET + index - 1)
        self.switch_port = "port%d" % index

    @property
    def anchor_pid(self):
        try:
            return int((self.state_dir / "anchor.pid").read_text())
        except FileNotFoundError:
            return None

    @property
    def python(self):
        return self.state_dir / "bin" / "python"

    def instance_dir(self, name):
        """/var/lib/novalite/instances/NAME of this host, as the machine's own namespace sees it
        (host-boot.sh bind-mounts the state dir's lib/novalite there)."""
        return self.state_dir / "lib" / "novalite" / "instances" / name

    def enter_command(self, args):
        """The argv that runs ``args`` inside this host's namespaces."""
        return ["nsenter", "--target", str(self.anchor_pid), "--net", "--mount", "--uts", "--"] + list(args)

    def run(self, args, check=True, timeout=None, **kwargs):
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run(self.enter_command([str(a) for a in args]), check=check,
                              timeout=timeout, **kwargs)

    def is_up(self):
        pid = self.anchor_pid
        return netns_exists(self.netns) and pid is not None and pid_alive(pid)

    def create(self):
        sh("ip", "netns", "add", self.netns)
        sh("ip", "-n", self.netns, "link", "add", "eth0", "type", "veth",
           "peer", "name", self.switch_port, "netns", self.sandbox.switch_netns)
        sh("ip", "-n", self.sandbox.switch_netns, "link", "set", self.switch_port, "master", "sw0", "up")
        sh("ip", "-n", self.netns, "addr", "add", self.address + "/24", "dev", "eth0")
        sh("ip", "-n", self.netns, "link", "set", "eth0", "up")
        sh("ip", "-n", self.netns, "route", "add", "default", "via", SWITCH_ADDRESS)
        self._prepare_state_dir()
        self._boot()
        self._write_wrappers()
        self._wait_for_libvirtd()

    def _prepare_state_dir(self):
        shutil.rmtree(self.state_dir, ignore_errors=True)
        etc = self.state_dir / "etc" / "libvirt"
        shutil.copytree("/etc/libvirt", etc, symlinks=True)
        for autostart in (etc / "qemu" / "networks" / "autostart").glob("*"):
            autostart.unlink()  # no libvirt "default" NAT network: the flat network is ours
        with open(etc / "qemu.conf", "a") as conf:
            conf.write('\n# novalite sandbox: no virtlogd in a namespace without systemd\n'
                       'stdio_handler = "file"\n')
        with open(etc / "libvirtd.conf", "a") as conf:
            conf.write('\nlog_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n')

    def _boot(self):
        log = open(self.state_dir / "boot.log", "w")
        anchor = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--uts", "--propagation",
             "private", "sh", str(SANDBOX_DIR / "host-boot.sh"), str(self.state_dir), self.name],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        # ip netns exec, unshare and the boot script all exec: the pid stays the anchor's
        (self.state_dir / "anchor.pid").write_text(str(anchor.pid))

    def _write_wrappers(self):
        bin_dir = self.state_dir / "bin"
        bin_dir.mkdir(exist_ok=True)
        enter = bin_dir / "enter"
        enter.write_text('#!/bin/sh\n# Run a command inside sandbox host %s.\n'
                         'exec nsenter --target "$(cat %s)" --net --mount --uts -- "$@"\n'
                         % (self.name, self.state_dir / "anchor.pid"))
        self.python.write_text('#!/bin/sh\nexec %s %s "$@"\n' % (enter, HOST_PYTHON))
        for wrapper in (enter, self.python):
            wrapper.chmod(0o755)

    def _wait_for_libvirtd(self):
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not pid_alive(self.anchor_pid):
                raise RuntimeError("host %s died while booting:\n%s"
                                   % (self.name, (self.state_dir / "boot.log").read_text()))
            probe = self.run(["virsh", "-q", "-c", "qemu:///system", "uri"], check=False)
            if probe.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("libvirtd on %s did not answer within %ss" % (self.name, READY_TIMEOUT))

    def stop_stray_anchor(self):
        """The anchor, should it have outlived its namespace's name (``ip netns del`` by hand)."""
        anchor = self.anchor_pid
        if anchor and pid_alive(anchor):
            stop_pids([anchor])


class Sandbox:
    def __init__(self, name="default", host_count=None, root=DEFAULT_ROOT):
        self.name = name
        self.prefix = "nl-" + name
        self.state_dir = Path(root) / name
        self.switch_netns = self.prefix + "-switch"
        self.host_count = host_count or self._recorded_host_count() or 2
        self.hosts = [Host(self, i) for i in range(1, self.host_count + 1)]

    @property
    def inventory_path(self):
        return self.state_dir / "inventory.yml"

    def host(self, name):
        return next(h for h in self.hosts if h.name == name)

    def is_up(self):
        return netns_exists(self.switch_netns) and all(h.is_up() for h in self.hosts)

    def up(self, build_image=True):
        if self.is_up():
            return self
        self.down()
        try:
            if build_image:
                build_guest_image()
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._create_switch()
            for host in self.hosts:
                host.create()
            self._write_inventory()
            (self.state_dir / "sandbox.json").write_text(json.dumps({"hosts": self.host_count}))
        except BaseException:
            self.down()
            raise
        return self

    def down(self):
        """Stop every process in the sandbox's namespaces and delete them and the state dir."""
        for netns in self._own_namespaces():
            stop_pids(netns_pids(netns))
            sh("ip", "netns", "del", netns)
        for host in self.hosts:
            host.stop_stray_anchor()
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def _own_namespaces(self):
        """Every namespace named under the prefix (hosts, switch, tests' own), the switch last."""
        listed = sh("ip", "netns", "list", capture=True).stdout.split("\n")
        names = [line.split()[0] for line in listed if line.strip()]
        return sorted((n for n in names if n.startswith(self.prefix + "-")), key=lambda n: n == self.switch_netns)

    def _recorded_host_count(self):
        try:
            return json.loads((self.state_dir / "sandbox.json").read_text())["hosts"]
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def _create_switch(self):
        ns = self.switch_netns
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "add", "sw0", "type", "bridge", "forward_delay", "0", "stp_state", "0")
        sh("ip", "-n", ns, "addr", "add", SWITCH_ADDRESS + "/24", "dev", "sw0")
        sh("ip", "-n", ns, "link", "set", "sw0", "up")

    def _write_inventory(self):
        hosts = {
            host.name: {
                "ansible_connection": "local",
                "ansible_python_interpreter": str(host.python),
                "novalite_host_address": host.address,
            }
            for host in self.hosts
        }
        inventory = {"all": {
            "children": {"compute": {"hosts": hosts, "vars": {"novalite_libvirt_uri": "qemu:///system"}}},
            "vars": {"novalite_image_catalog": str(IMAGE_DIR / "catalog.yml"),
                     # the controller's locks and ledgers, per sandbox so sandboxes never see each other's
                     "novalite_controller_state_dir": str(self.state_dir / "controller")},
        }}
        header = ("# Sandbox %r: simulated compute hosts on this machine, written by sandbox/sandbox.py.\n"
                  "# Each host runs modules through bin/python, which enters its namespaces.\n" % self.name)
        self.inventory_path.write_text(header + yaml.safe_dump(inventory, sort_keys=False))


def build_guest_image():
    builder = SANDBOX_DIR / "guest_image" / "build.py"
    # its progress goes to stderr: `up` prints only the inventory path on stdout
    subprocess.run([sys.executable, str(builder), "--out", str(IMAGE_DIR)], check=True, stdout=sys.stderr)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default=os.environ.get("NOVALITE_SANDBOX", "default"))
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="bring the sandbox up (idempotent)")
    up.add_argument("--hosts", type=int, default=None, help="number of compute hosts (default 2)")
    up.add_argument("--no-image", action="store_true", help="do not build the test guest image")
    sub.add_parser("down", help="tear everything down")
    sub.add_parser("status", help="say whether each host is up")
    sub.add_parser("inventory", help="print the inventory path")
    run = sub.add_parser("exec", help="run a command inside a host")
    run.add_argument("host")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sandbox = Sandbox(args.name, host_count=getattr(args, "hosts", None))
    if args.command == "up":
        sandbox.up(build_image=not args.no_image)
        print(sandbox.inventory_path)
    elif args.command == "down":
        sandbox.down()
    elif args.command == "status":
        for host in sandbox.hosts:
            print("%s %s %s" % (host.name, host.netns, "up" if host.is_up() else "down"))
        return 0 if sandbox.is_up() else 1
    elif args.command == "inventory":
        print(sandbox.inventory_path)
    elif args.command == "exec":
        argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        return subprocess.call(sandbox.host(args.host).enter_command(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
