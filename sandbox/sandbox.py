#!/usr/bin/env python3
"""Simulated compute hosts on this one machine, for the demo and the tests.

Each host is a network namespace plus a private mount and UTS namespace (see
host-boot.sh) running its own libvirtd. Its "physical" NIC eth0 (192.168.96.80, .81, ...) is a
veth plugged into the bridge sw0 of a switch namespace: the flat provider network.

The switch namespace is also the LAN's router (192.168.96.254, every host's default gateway)
with the "internet" beyond it: 203.0.113.1 (TEST-NET-3) on its interface inet0. A host reaches
it; the router has no route to the guests' fixed range 10.0.0.0/8, so a guest reaches it only
once its host translates the guest's address (SNAT). ``Sandbox.router_address``,
``Sandbox.internet_address`` and ``Sandbox.switch_run``/``switch_command`` (a command in the
switch namespace, e.g. a server a test starts and stops by pid) are there for such tests.

Ansible reaches a host with the local connection and an interpreter wrapper that enters
the host's namespaces (bin/python in the host's state dir); playbooks see an ordinary
Debian compute host with qemu:///system, /etc/ansible/facts.d and /var/lib/novalite.
Without --ssh nothing is plugged into the machine's own namespace, so no sandbox namespace
has a route out.

With --ssh (``Sandbox(..., ssh=True)``) the hosts also get a management network, as real
compute hosts have (see ssh_access.py):
- a bridge mg0 in the sandbox's namespace NAME-mgmt, each host's mgmt0 plugged into it with
  169.254.X.80, .81, ... (X chosen so that no two sandboxes up at once share it, never 169);
  the machine's namespace gets one veth, nlmgmt<X>, with 169.254.X.254: that and its route are
  all the sandbox adds there, and `down` removes them. Hosts reach each other freely on it
  (ssh, QEMU's migration stream and NBD on ports 49152+); towards the machine they only answer.
- an sshd in each host's namespaces, listening on the management address only, root login by
  the run's ed25519 key only (STATE/ssh/id_ed25519). Each host has its own /etc/ssh (host key,
  sshd_config, authorized_keys, ssh_config, ssh_known_hosts with every host's key, and
  /etc/ssh/id_ed25519_novalite, root's key to the other hosts) and, when the machine has a
  /root/.ssh, an empty one of its own over it. So `virsh -c qemu+ssh://root@<peer>/system` works
  inside a host, for virsh and for libvirtd's peer-to-peer migration alike, without prompts;
  libvirtd advertises the management address for incoming migrations (qemu.conf
  migration_host/migration_address). --ssh adds about 0.1 s to `up`.
- STATE/inventory-ssh.yml: the same hosts over ansible_connection ssh (ansible_host the
  management address, STATE/ssh/ssh_config for keys and known hosts; the machine's ~/.ssh is
  never read or written). The local-connection inventory stays the default.
- both inventories carry novalite_migration_address (per host) and novalite_migration_uri
  (a %s template, as Nova's [libvirt] live_migration_uri).

    sandbox.py up [--hosts N] [--ssh] [--name NAME]   bring up (idempotent), print the inventory
    sandbox.py down [--name NAME]                     stop every process, delete every namespace
    sandbox.py status | inventory [--ssh] | exec HOST -- CMD... | ssh HOST [CMD...]
"""

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import yaml

import ssh_access

SANDBOX_DIR = Path(__file__).resolve().parent
DEFAULT_ROOT = Path(os.environ.get("NOVALITE_SANDBOX_DIR", "/var/tmp/novalite-sandbox"))
IMAGE_DIR = Path(os.environ.get("NOVALITE_IMAGE_DIR", "/var/tmp/novalite-images"))
HOST_PYTHON = "/usr/bin/python3"  # Debian's, with python3-libvirt/-lxml/-netaddr, as on a real host

PROVIDER_PREFIX = "192.168.96."  # nova-network's eth0/br100 network of a compute host
SWITCH_ADDRESS = PROVIDER_PREFIX + "254"  # the LAN's router: every host's default gateway
INTERNET_ADDRESS = "203.0.113.1"  # TEST-NET-3, on the router's inet0: the "internet"
INTERNET_PREFIX_LENGTH = 24
FIRST_HOST_OCTET = 80  # compute1 is 192.168.96.80 (and 169.254.X.80 on the management network)
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
        self.host_key = None  # its sshd's public key, with --ssh

    @property
    def mgmt_address(self):
        """Its address on the management network (mgmt0), with --ssh; else None."""
        if self.sandbox.mgmt_octet is None:
            return None
        return "%s%d.%d" % (ssh_access.MGMT_PREFIX, self.sandbox.mgmt_octet, FIRST_HOST_OCTET + self.index - 1)

    @property
    def anchor_pid(self):
        try:
            return int((self.state_dir / "anchor.pid").read_text())
        except FileNotFoundError:
            return None

    @property
    def python(self):
        return self.state_dir / "bin" / "python"

    @property
    def etc_ssh(self):
        """The host's own /etc/ssh, as the machine's namespace sees it."""
        return self.state_dir / "etc-ssh"

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

    def ssh_command(self, args=()):
        """The argv that runs ``args`` on this host over SSH from the machine (with --ssh), as a
        user's ssh would: ``ssh -F STATE/ssh/ssh_config computeN 'ARGS'``."""
        command = ["ssh", "-F", str(self.sandbox.ssh_config_path), self.name]
        return command + ([shlex.join(str(a) for a in args)] if args else [])

    def is_up(self):
        pid = self.anchor_pid
        return netns_exists(self.netns) and pid is not None and pid_alive(pid)

    def sshd_alive(self):
        pid = ssh_access.sshd_pid(self)
        return pid is not None and pid_alive(pid) and pid in netns_pids(self.netns)

    def create(self):
        sh("ip", "netns", "add", self.netns)
        sh("ip", "-n", self.netns, "link", "add", "eth0", "type", "veth",
           "peer", "name", self.switch_port, "netns", self.sandbox.switch_netns)
        sh("ip", "-n", self.sandbox.switch_netns, "link", "set", self.switch_port, "master", "sw0", "up")
        sh("ip", "-n", self.netns, "addr", "add", self.address + "/24", "dev", "eth0")
        sh("ip", "-n", self.netns, "link", "set", "eth0", "up")
        sh("ip", "-n", self.netns, "route", "add", "default", "via", SWITCH_ADDRESS)
        if self.mgmt_address:
            self._plug_management()
        self._prepare_state_dir()
        self._boot()
        self._write_wrappers()
        self._wait_for_libvirtd()
        if self.sandbox.ssh:
            ssh_access.start_sshd(self, self.mgmt_address)

    def _plug_management(self):
        mgmt = self.sandbox.mgmt_netns
        sh("ip", "-n", self.netns, "link", "add", "mgmt0", "type", "veth",
           "peer", "name", self.switch_port, "netns", mgmt)
        sh("ip", "-n", mgmt, "link", "set", self.switch_port, "master", "mg0", "up")
        sh("ip", "-n", self.netns, "link", "set", "dev", "mgmt0", "addrgenmode", "none")  # IPv4 only
        sh("ip", "-n", self.netns, "addr", "add", self.mgmt_address + "/24", "dev", "mgmt0")
        sh("ip", "-n", self.netns, "link", "set", "mgmt0", "up")

    def _prepare_state_dir(self):
        shutil.rmtree(self.state_dir, ignore_errors=True)
        etc = self.state_dir / "etc" / "libvirt"
        shutil.copytree("/etc/libvirt", etc, symlinks=True)
        for autostart in (etc / "qemu" / "networks" / "autostart").glob("*"):
            autostart.unlink()  # no libvirt "default" NAT network: the flat network is ours
        with open(etc / "qemu.conf", "a") as conf:
            conf.write('\n# novalite sandbox: no virtlogd in a namespace without systemd\n'
                       'stdio_handler = "file"\n')
            if self.mgmt_address:
                conf.write('# incoming migrations (stream and NBD) on the management network\n'
                           'migration_address = "%s"\nmigration_host = "%s"\n'
                           % (self.mgmt_address, self.mgmt_address))
        with open(etc / "libvirtd.conf", "a") as conf:
            conf.write('\nlog_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n')
            # every host its own identity: libvirt refuses to migrate to a host with its own UUID
            conf.write('host_uuid = "%s"\n' % uuid.uuid4())
        # The host's own name must resolve locally, as on any Debian host: libvirtd looks it up on
        # every domain start and would otherwise wait 10 s for a DNS server no namespace can reach.
        # With a management network the other hosts' names resolve to their management addresses.
        peers = "".join("%s\t%s\n" % (h.mgmt_address, h.name) for h in self.sandbox.hosts
                        if h is not self and h.mgmt_address)
        (self.state_dir / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\t%s\n%s" % (self.name, peers))
        # No resolver: lookups of other names fail at once instead of timing out.
        (self.state_dir / "resolv.conf").write_text("# sandbox host: no DNS resolver\n")
        if self.sandbox.ssh:
            self.host_key = ssh_access.prepare_host_ssh_dir(
                self.etc_ssh, self.mgmt_address, self.sandbox.ssh_key_path, self.sandbox.run_public_key, self.name)
            (self.state_dir / "root-ssh").mkdir(mode=0o700)

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

    def stop_sshd(self):
        """Its sshd, by the pid in its pid file (only while that pid is in the host's namespace)."""
        pid = ssh_access.sshd_pid(self)
        if pid and netns_exists(self.netns) and pid in netns_pids(self.netns):
            stop_pids([pid])

    def stop_stray_anchor(self):
        """The anchor, should it have outlived its namespace's name (``ip netns del`` by hand)."""
        anchor = self.anchor_pid
        if anchor and pid_alive(anchor):
            stop_pids([anchor])


class Sandbox:
    router_address = SWITCH_ADDRESS
    internet_address = INTERNET_ADDRESS
    internet_network = "%s/%d" % (INTERNET_ADDRESS.rsplit(".", 1)[0] + ".0", INTERNET_PREFIX_LENGTH)
    migration_uri = ssh_access.MIGRATION_URI

    def __init__(self, name="default", host_count=None, root=DEFAULT_ROOT, ssh=None):
        """``host_count`` and ``ssh`` default to what the sandbox was brought up with (2 hosts, no ssh)."""
        self.name = name
        self.prefix = "nl-" + name
        self.state_dir = Path(root) / name
        self.switch_netns = self.prefix + "-switch"
        self.mgmt_netns = self.prefix + "-mgmt"
        recorded = self._recorded()
        self.host_count = host_count or recorded.get("hosts") or 2
        self.ssh = bool(recorded.get("ssh", False) if ssh is None else ssh)
        self.mgmt_octet = recorded.get("mgmt_octet")
        self.run_public_key = None
        self.hosts = [Host(self, i) for i in range(1, self.host_count + 1)]

    @property
    def inventory_path(self):
        return self.state_dir / "inventory.yml"

    @property
    def ssh_inventory_path(self):
        return self.state_dir / "inventory-ssh.yml"

    @property
    def ssh_key_path(self):
        return self.state_dir / "ssh" / "id_ed25519"

    @property
    def ssh_config_path(self):
        return self.state_dir / "ssh" / "ssh_config"

    @property
    def known_hosts_path(self):
        return self.state_dir / "ssh" / "known_hosts"

    @property
    def control_path_dir(self):
        """Where Ansible keeps its SSH control sockets for these hosts (not ~/.ansible/cp)."""
        return self.state_dir / "ssh" / "cp"

    @property
    def mgmt_link(self):
        """The machine's end of the management link, with --ssh."""
        return None if self.mgmt_octet is None else ssh_access.MACHINE_LINK % self.mgmt_octet

    @property
    def mgmt_network(self):
        return None if self.mgmt_octet is None else "%s%d.0/24" % (ssh_access.MGMT_PREFIX, self.mgmt_octet)

    @property
    def controller_address(self):
        """The machine's address on the management network, with --ssh."""
        if self.mgmt_octet is None:
            return None
        return "%s%d.%d" % (ssh_access.MGMT_PREFIX, self.mgmt_octet, ssh_access.CONTROLLER_OCTET)

    def host(self, name):
        return next(h for h in self.hosts if h.name == name)

    def switch_command(self, args):
        """The argv that runs ``args`` in the switch namespace (the router, with the internet address)."""
        return ["ip", "netns", "exec", self.switch_netns] + [str(a) for a in args]

    def switch_run(self, args, check=True, timeout=None, **kwargs):
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run(self.switch_command(args), check=check, timeout=timeout, **kwargs)

    def is_up(self):
        recorded = self._recorded()
        if not (recorded.get("ready") and recorded.get("ssh", False) == self.ssh):
            return False
        if not (netns_exists(self.switch_netns) and all(h.is_up() for h in self.hosts)):
            return False
        if self.ssh:
            return self.mgmt_link in ssh_access.machine_links(sh, self.name) and all(
                h.sshd_alive() for h in self.hosts)
        return True

    def up(self, build_image=True):
        if self.is_up():
            return self
        self.down()
        try:
            if build_image:
                build_guest_image()
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._record(ready=False)
            self._create_switch()
            if self.ssh:
                self._create_management_network()
                self.run_public_key = ssh_access.make_key(self.ssh_key_path, "novalite-sandbox-%s" % self.name)
            for host in self.hosts:
                host.create()
            if self.ssh:
                self._write_ssh_client_files()
            self._write_inventories()
            self._record(ready=True)
        except BaseException:
            self.down()
            raise
        return self

    def down(self):
        """Stop every process of the sandbox (by pid) and delete its namespaces, the links it put in the
        machine's namespace and its state dir."""
        stop_pids(ssh_access.control_master_pids(self.control_path_dir))  # Ansible's, to our hosts
        for host in self.hosts:
            host.stop_sshd()
        for link in ssh_access.machine_links(sh, self.name):
            sh("ip", "link", "del", link)  # now, not when the kernel gets round to the deleted namespace
        for netns in self._own_namespaces():
            stop_pids(netns_pids(netns))
            sh("ip", "netns", "del", netns)
        for host in self.hosts:
            host.stop_stray_anchor()
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self.mgmt_octet = None

    def _own_namespaces(self):
        """Every namespace named under the prefix (hosts, switch, tests' own), the switch last."""
        listed = sh("ip", "netns", "list", capture=True).stdout.split("\n")
        names = [line.split()[0] for line in listed if line.strip()]
        return sorted((n for n in names if n.startswith(self.prefix + "-")), key=lambda n: n == self.switch_netns)

    def _recorded(self):
        try:
            return json.loads((self.state_dir / "sandbox.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _record(self, ready):
        (self.state_dir / "sandbox.json").write_text(json.dumps(
            {"hosts": self.host_count, "ssh": self.ssh, "mgmt_octet": self.mgmt_octet, "ready": ready}))

    def _create_switch(self):
        ns = self.switch_netns
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "add", "sw0", "type", "bridge", "forward_delay", "0", "stp_state", "0")
        sh("ip", "-n", ns, "addr", "add", SWITCH_ADDRESS + "/24", "dev", "sw0")
        sh("ip", "-n", ns, "link", "set", "sw0", "up")
        # The internet beyond the router. A veth pair whose ends both stay here does what a dummy
        # interface would (not every kernel has the dummy driver).
        sh("ip", "-n", ns, "link", "add", "inet0", "type", "veth", "peer", "name", "inet0-end")
        sh("ip", "-n", ns, "addr", "add", "%s/%d" % (INTERNET_ADDRESS, INTERNET_PREFIX_LENGTH), "dev", "inet0")
        sh("ip", "-n", ns, "link", "set", "inet0-end", "up")
        sh("ip", "-n", ns, "link", "set", "inet0", "up")

    def _create_management_network(self):
        ns = self.mgmt_netns
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "add", "mg0", "type", "bridge", "forward_delay", "0", "stp_state", "0")
        sh("ip", "-n", ns, "link", "set", "mg0", "up")
        self.mgmt_octet = ssh_access.claim_subnet(sh, self.name, ns, "uplink")
        link = self.mgmt_link
        sh("ip", "link", "set", "dev", link, "alias", ssh_access.ALIAS % self.name)  # so `down` finds it
        self._record(ready=False)
        sh("ip", "link", "set", "dev", link, "addrgenmode", "none")  # no IPv6 link-local chatter
        sh("ip", "addr", "add", self.controller_address + "/24", "dev", link, "scope", "link")
        sh("ip", "link", "set", "dev", link, "up")
        sh("ip", "-n", ns, "link", "set", "uplink", "master", "mg0", "up")
        for rule in ssh_access.filter_rules(self.mgmt_network, "uplink", "port+"):
            sh("ip", "netns", "exec", ns, "ebtables", "-A", "FORWARD", *rule)

    def _write_ssh_client_files(self):
        """known_hosts (on the machine and in every host) and the machine-side ssh_config."""
        known = ssh_access.known_hosts_lines([(h.name, h.mgmt_address, h.host_key) for h in self.hosts])
        ssh_access.write_private(self.known_hosts_path, known, 0o644)
        for host in self.hosts:
            ssh_access.write_private(host.etc_ssh / "ssh_known_hosts", known, 0o644)
        ssh_access.write_private(self.ssh_config_path, ssh_access.controller_ssh_config(
            [(h.name, h.mgmt_address) for h in self.hosts], self.ssh_key_path, self.known_hosts_path), 0o644)

    def _host_vars(self, host):
        variables = {"novalite_host_address": host.address}
        if host.mgmt_address:
            # where the other hosts reach this one for migration (Nova: [libvirt] live_migration_inbound_addr)
            variables["novalite_migration_address"] = host.mgmt_address
        return variables

    def _write_inventories(self):
        group_vars = {"novalite_libvirt_uri": "qemu:///system"}
        if self.ssh:
            group_vars["novalite_migration_uri"] = self.migration_uri
        common = {"novalite_image_catalog": str(IMAGE_DIR / "catalog.yml"),
                  # the controller's locks and ledgers, per sandbox so sandboxes never see each other's
                  "novalite_controller_state_dir": str(self.state_dir / "controller")}
        local = {host.name: dict({"ansible_connection": "local", "ansible_python_interpreter": str(host.python)},
                                 **self._host_vars(host)) for host in self.hosts}
        self._write_inventory(self.inventory_path, local, group_vars, common,
                              "Each host runs modules through bin/python, which enters its namespaces.")
        if not self.ssh:
            return
        remote = {host.name: dict({"ansible_host": host.mgmt_address}, **self._host_vars(host))
                  for host in self.hosts}
        connection = {
            "ansible_connection": "ssh",
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(self.ssh_key_path),
            "ansible_ssh_common_args": "-F %s" % self.ssh_config_path,
            "ansible_host_key_checking": True,  # against the run's known_hosts, never ~/.ssh
            "ansible_control_path_dir": str(self.control_path_dir),
            "ansible_python_interpreter": HOST_PYTHON,
        }
        self._write_inventory(self.ssh_inventory_path, remote, dict(connection, **group_vars), common,
                              "Each host is reached over SSH on its management address, as a real host.")

    def _write_inventory(self, path, hosts, group_vars, common, how):
        inventory = {"all": {"children": {"compute": {"hosts": hosts, "vars": group_vars}}, "vars": common}}
        header = ("# Sandbox %r: simulated compute hosts on this machine, written by sandbox/sandbox.py.\n"
                  "# %s\n" % (self.name, how))
        path.write_text(header + yaml.safe_dump(inventory, sort_keys=False))


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
    up.add_argument("--ssh", action="store_true", default=None,
                    help="management network, sshd on every host and inventory-ssh.yml")
    up.add_argument("--no-image", action="store_true", help="do not build the test guest image")
    sub.add_parser("down", help="tear everything down")
    sub.add_parser("status", help="say whether each host is up")
    inventory = sub.add_parser("inventory", help="print the inventory path")
    inventory.add_argument("--ssh", action="store_true", help="the SSH inventory's")
    run = sub.add_parser("exec", help="run a command inside a host")
    run.add_argument("host")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    ssh = sub.add_parser("ssh", help="ssh to a host over the management network (with --ssh)")
    ssh.add_argument("host")
    ssh.add_argument("argv", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sandbox = Sandbox(args.name, host_count=getattr(args, "hosts", None),
                      ssh=getattr(args, "ssh", None) if args.command == "up" else None)
    if args.command == "up":
        sandbox.up(build_image=not args.no_image)
        print(sandbox.inventory_path)
        if sandbox.ssh:
            print("SSH inventory: %s" % sandbox.ssh_inventory_path, file=sys.stderr)
    elif args.command == "down":
        sandbox.down()
    elif args.command == "status":
        for host in sandbox.hosts:
            print("%s %s %s%s" % (host.name, host.netns, "up" if host.is_up() else "down",
                                  " ssh %s %s" % (host.mgmt_address, "up" if host.sshd_alive() else "down")
                                  if sandbox.ssh else ""))
        return 0 if sandbox.is_up() else 1
    elif args.command == "inventory":
        print(sandbox.ssh_inventory_path if args.ssh else sandbox.inventory_path)
    elif args.command in ("exec", "ssh"):
        argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        host = sandbox.host(args.host)
        return subprocess.call(host.enter_command(argv) if args.command == "exec" else host.ssh_command(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
