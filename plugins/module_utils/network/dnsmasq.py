# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One network's dnsmasq on a compute host: files, command line, process, and the step that keeps it.

``nova/network/linux_net.py``: ``restart_dhcp`` wrote the hosts file and started dnsmasq (or sent
SIGHUP to the running one), ``update_dhcp`` rewrote the hosts file, ``kill_dhcp`` stopped it. The
flags are Nova's, in its order, with the netmask in ``--dhcp-range`` as Grizzly added it; the files
are ``<networks_path>/nova-<bridge>.conf`` (the dhcp-hostsfile) and ``nova-<bridge>.pid``. There is
no ``--dhcp-script``: lease events (nova-dhcpbridge) are not reproduced.

The pid file is trusted only when ``/proc/<pid>`` is a live ``dnsmasq`` whose command line names
our hosts file (a pid file can outlive its process and the pid be reused). dnsmasq forks into the
background and outlives the module. It drops root before it reads the hosts file, so the file is
0644 and every directory above it must be searchable by others.
"""

from __future__ import annotations

import os
import signal
import stat
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import (
    read_text, remove_quietly, write_atomic)
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import address_key

DEFAULT_LEASE_SECONDS = 120
MIN_LEASE_SECONDS = 120  # dnsmasq refuses shorter leases
STOP_SECONDS = 10.0
HOSTS_FILE_MODE = 0o644
DIRECTORY_MODE = 0o755
KEEP_RUNNING = object()  # ``arguments`` that keep whatever runs now: taken from the step's own probe


# --- files and command line ------------------------------------------------------------------

class DnsmasqFiles:
    def __init__(self, networks_path, bridge):
        self.directory = networks_path
        self.hosts = os.path.join(networks_path, "nova-%s.conf" % bridge)
        self.pid = os.path.join(networks_path, "nova-%s.pid" % bridge)


def dnsmasq_arguments(network, dhcp_server, files, config_file="", lease_seconds=DEFAULT_LEASE_SECONDS):
    """The arguments after ``dnsmasq`` (Nova's restart_dhcp, without the env prefix for the script)."""
    return [
        "--strict-order",
        "--bind-interfaces",
        "--conf-file=%s" % config_file,
        "--domain=%s" % network.dhcp_domain,
        "--pid-file=%s" % files.pid,
        "--listen-address=%s" % dhcp_server,
        "--except-interface=lo",
        "--dhcp-range=set:%s,%s,static,%s,%ds" % (network.label, network.dhcp_start, network.netmask, lease_seconds),
        "--dhcp-lease-max=%d" % network.network.size,
        "--dhcp-hostsfile=%s" % files.hosts,
        "--leasefile-ro",
    ]


def hosts_file_text(network, fixed_ips):
    """One ``mac,hostname.domain,ip`` line per fixed ip (Nova's _host_dhcp), lowest address first.

    Every field was validated on the way in (a MAC, a DNS label, an address), so none can carry
    a comma or a newline into the file.
    """
    ordered = sorted(fixed_ips, key=lambda record: address_key(record["address"]))
    return "".join("%s,%s.%s,%s\n" % (r["mac"], r["hostname"], network.dhcp_domain, r["address"]) for r in ordered)


# --- the process -----------------------------------------------------------------------------

class DnsmasqProcess:
    """``send_signal`` and ``proc_root`` are replaceable so that unit tests need no processes."""

    def __init__(self, files, proc_root="/proc", send_signal=os.kill, sleep=time.sleep):
        self.files = files
        self.proc_root = proc_root
        self.send_signal = send_signal
        self.sleep = sleep

    def running(self):
        """(pid, arguments after the binary) of our live dnsmasq, or (None, None)."""
        pid = _pid_from(read_text(self.files.pid))
        if pid is None or not self._alive(pid):
            return None, None
        argv = _read_proc(os.path.join(self.proc_root, str(pid), "cmdline")).split("\0")[:-1]
        if not argv or os.path.basename(argv[0]) != "dnsmasq" or "--dhcp-hostsfile=" + self.files.hosts not in argv:
            return None, None
        return pid, argv[1:]

    def start(self, run_command, binary, arguments):
        run_checked(run_command, [binary] + list(arguments))  # returns once the daemon wrote its pid
        pid, _arguments = self.running()
        if pid is None:
            raise NovaliteError("dnsmasq started but %s does not name a running dnsmasq" % self.files.pid)
        return pid

    def hangup(self, pid):
        """Reload the hosts file; dnsmasq re-reads nothing else on SIGHUP (dhcp-range stays)."""
        self.send_signal(pid, signal.SIGHUP)

    def stop(self, pid):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            self._signal_quietly(pid, sig)
            deadline = time.monotonic() + STOP_SECONDS
            while time.monotonic() < deadline:
                if not self._alive(pid):
                    return
                self.sleep(0.05)
        raise NovaliteError("dnsmasq pid %d did not stop" % pid)

    def _signal_quietly(self, pid, sig):
        try:
            self.send_signal(pid, sig)
        except ProcessLookupError:
            pass

    def _alive(self, pid):
        """True while the process exists and is not a zombie (no init may be there to reap it)."""
        stat = _read_proc(os.path.join(self.proc_root, str(pid), "stat"))
        return bool(stat) and stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _read_proc(path):
    """A /proc file's text; "" once the process is gone (it can go between two reads)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _pid_from(text):
    try:
        return int((text or "").strip())
    except ValueError:
        return None


# --- the step --------------------------------------------------------------------------------

class DnsmasqStep:
    """``hosts_text`` None removes the files; ``arguments`` None stops dnsmasq, KEEP_RUNNING keeps its flags.

    ``start`` False only HUPs a running dnsmasq (a release does not bring a dead one back).
    """

    def __init__(self, run_command, process, binary, hosts_text, arguments, start=True, name="dnsmasq"):
        self.name = name
        self.run_command = run_command
        self.process = process
        self.files = process.files
        self.binary = binary
        self.pid, self.running_arguments = process.running()
        if arguments is KEEP_RUNNING:
            arguments = self.running_arguments
        self.hosts_text, self.arguments = hosts_text, arguments
        self.current_text = read_text(self.files.hosts)
        if hosts_text is not None:
            check_readable_path(self.files.directory)
        self.write_hosts = hosts_text is not None and (
            self.current_text != hosts_text or _mode(self.files.hosts) != HOSTS_FILE_MODE)
        self.remove_files = hosts_text is None and any(map(os.path.exists, (self.files.hosts, self.files.pid)))
        self.action = self._action(start)
        self.changed = bool(self.write_hosts or self.remove_files or self.action)
        self.before = self._describe(self.current_text, self.pid is not None, self.running_arguments)
        running_after = arguments is not None and (self.pid is not None or start)
        self.after = self._describe(hosts_text, running_after, arguments if running_after else None)

    def _action(self, start):
        if self.arguments is None:
            return "stop" if self.pid else None
        if self.pid is None:
            return "start" if start else None
        if self.running_arguments != self.arguments:
            return "replace"
        return "hangup" if self.current_text != self.hosts_text else None

    @staticmethod
    def _describe(hosts_text, running, arguments):
        return {"hosts": (hosts_text or "").splitlines(), "running": running, "arguments": arguments}

    def apply(self):
        if self.write_hosts:
            ensure_searchable_directory(self.files.directory)
            write_atomic(self.files.hosts, self.hosts_text, mode=HOSTS_FILE_MODE)
        if self.action in ("stop", "replace"):
            self.process.stop(self.pid)
        if self.action in ("start", "replace"):
            self.pid = self.process.start(self.run_command, self.binary, self.arguments)
        elif self.action == "hangup":
            self.process.hangup(self.pid)
        elif self.action == "stop":
            self.pid = None
        if self.remove_files:
            remove_quietly(self.files.hosts, self.files.pid)

    def undo(self):
        if self.current_text is None:
            remove_quietly(self.files.hosts)
        else:
            write_atomic(self.files.hosts, self.current_text, mode=HOSTS_FILE_MODE)
        if self.action in ("start", "replace") and self.pid:
            self.process.stop(self.pid)
        if self.action in ("stop", "replace"):
            self.process.start(self.run_command, self.binary, self.running_arguments)
        elif self.action == "hangup":
            self.process.hangup(self.pid)


def check_readable_path(directory):
    """Refuse a directory dnsmasq could not reach after dropping root (checked before any change)."""
    path = os.path.abspath(directory)
    while True:
        if os.path.exists(path) and not os.stat(path).st_mode & stat.S_IXOTH:
            raise InvalidInput("dnsmasq reads %s after dropping root, but %s is not searchable by others "
                               "(chmod o+x it, or choose another networks_path)" % (directory, path), value=path)
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


def ensure_searchable_directory(directory):
    missing = []
    path = os.path.abspath(directory)
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        os.mkdir(path)
        os.chmod(path, DIRECTORY_MODE)  # not left to the umask


def _mode(path):
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None
