# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One network's dnsmasq on a compute host: files, command line, process, and the step that keeps it.

``nova/network/linux_net.py``: ``restart_dhcp`` wrote the hosts files and started dnsmasq (or sent
SIGHUP to the running one), ``update_dhcp`` and ``update_dns`` rewrote them, ``kill_dhcp`` stopped
it. The flags are Nova's, in its order, with the netmask in ``--dhcp-range`` as Grizzly added it;
the files are ``<networks_path>/nova-<bridge>.conf`` (the dhcp-hostsfile: this host's instances),
``nova-<bridge>.hosts`` (the addn-hosts of a multi_host network: every instance of the network on
every host, ``<ip>\t<hostname>.<domain>``, so guests resolve each other across hosts) and
``nova-<bridge>.pid``. With DNS servers in the network dnsmasq forwards to them alone
(``--no-resolv --server=``), and a multi_host network or one with DNS servers ignores the host's
/etc/hosts (``--no-hosts``), as Nova's ``use_network_dns_servers`` did. There is no
``--dhcp-script``: lease events (nova-dhcpbridge) are not reproduced.

The pid file is trusted only when ``/proc/<pid>`` is a live ``dnsmasq`` whose command line names
our hosts file (a pid file can outlive its process and the pid be reused). dnsmasq forks into the
background and outlives the module. It drops root before it reads the hosts files, so they are
0644 and every directory above them must be searchable by others. SIGHUP re-reads both.
"""

from __future__ import annotations

import os
import stat
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.files import (
    read_text, remove_quietly, write_atomic)
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import address_key
from ansible_collections.novalite.compute.plugins.module_utils.network.process import KEEP_RUNNING, PidFileProcess

DEFAULT_LEASE_SECONDS = 120
MIN_LEASE_SECONDS = 120  # dnsmasq refuses shorter leases
HOSTS_FILE_MODE = 0o644
DIRECTORY_MODE = 0o755


# --- files and command line ------------------------------------------------------------------

class DnsmasqFiles:
    def __init__(self, networks_path, bridge):
        self.directory = networks_path
        self.hosts = os.path.join(networks_path, "nova-%s.conf" % bridge)
        self.dns_hosts = os.path.join(networks_path, "nova-%s.hosts" % bridge)
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
    ] + dns_arguments(network, files)


def dns_arguments(network, files):
    """Nova's DNS flags: the addn-hosts of a multi_host network, the network's DNS servers alone."""
    servers = [server for server in (network.dns1, network.dns2) if server]
    arguments = ["--no-hosts"] if network.multi_host or servers else []
    if network.multi_host:
        arguments.append("--addn-hosts=%s" % files.dns_hosts)
    if servers:
        arguments.append("--no-resolv")
    return arguments + ["--server=%s" % server for server in dict.fromkeys(servers)]


def dns_hosts_text(network, names):
    """The addn-hosts file (Nova's ``_host_dns``): ``<ip>\t<hostname>.<domain>`` per instance, lowest
    address first; ``names`` is {address: hostname}. None for a network that is not multi_host."""
    if not network.multi_host:
        return None
    ordered = sorted(names.items(), key=lambda item: address_key(item[0]))
    return "".join("%s\t%s.%s\n" % (address, hostname, network.dhcp_domain) for address, hostname in ordered)


def hosts_file_text(network, fixed_ips):
    """One ``mac,hostname.domain,ip`` line per fixed ip (Nova's _host_dhcp), lowest address first.

    Every field was validated on the way in (a MAC, a DNS label, an address), so none can carry
    a comma or a newline into the file.
    """
    ordered = sorted(fixed_ips, key=lambda record: address_key(record["address"]))
    return "".join("%s,%s.%s,%s\n" % (r["mac"], r["hostname"], network.dhcp_domain, r["address"]) for r in ordered)


# --- the process -----------------------------------------------------------------------------

class DnsmasqProcess(PidFileProcess):
    """Our dnsmasq: a live ``dnsmasq`` whose command line names our hosts file."""

    def __init__(self, files, proc_root="/proc", send_signal=os.kill, sleep=time.sleep):
        hosts_option = "--dhcp-hostsfile=" + files.hosts
        super().__init__(files.pid, "dnsmasq",
                         lambda argv: os.path.basename(argv[0]) == "dnsmasq" and hosts_option in argv,
                         proc_root, send_signal, sleep)
        self.files = files

    def running(self):
        """(pid, arguments after the binary) of our live dnsmasq, or (None, None)."""
        pid, argv = super().running()
        return (pid, argv[1:]) if pid else (None, None)

    def start(self, run_command, binary, arguments):  # pylint: disable=arguments-renamed
        return super().start(run_command, [binary] + list(arguments))


# --- the step --------------------------------------------------------------------------------

class DnsmasqStep:
    """``hosts_text`` None removes the files; ``arguments`` None stops dnsmasq, KEEP_RUNNING keeps its flags.

    ``dns_text`` is the addn-hosts file's text (None: no such file). ``start`` False only HUPs a
    running dnsmasq (a release does not bring a dead one back).
    """

    def __init__(self, run_command, process, binary, hosts_text, arguments, start=True, name="dnsmasq",
                 dns_text=None):
        self.name = name
        self.run_command = run_command
        self.process = process
        self.files = process.files
        self.binary = binary
        self.pid, self.running_arguments = process.running()
        if arguments is KEEP_RUNNING:
            arguments = self.running_arguments
        self.arguments = arguments
        self.texts = {self.files.hosts: hosts_text, self.files.dns_hosts: dns_text if hosts_text is not None else None}
        self.current = {path: read_text(path) for path in self.texts}
        if hosts_text is not None:
            check_readable_path(self.files.directory)
        self.writes = [path for path, text in self.texts.items() if text is not None and (
            self.current[path] != text or _mode(path) != HOSTS_FILE_MODE)]
        self.removals = [path for path, text in self.texts.items() if text is None and self.current[path] is not None]
        if hosts_text is None and os.path.exists(self.files.pid):
            self.removals.append(self.files.pid)
        self.action = self._action(start)
        self.changed = bool(self.writes or self.removals or self.action)
        self.before = self._describe(self.current, self.pid is not None, self.running_arguments)
        running_after = arguments is not None and (self.pid is not None or start)
        self.after = self._describe(self.texts, running_after, arguments if running_after else None)

    def _action(self, start):
        if self.arguments is None:
            return "stop" if self.pid else None
        if self.pid is None:
            return "start" if start else None
        if self.running_arguments != self.arguments:
            return "replace"
        return "hangup" if any(self.current[path] != text for path, text in self.texts.items()) else None

    def _describe(self, texts, running, arguments):
        described = {"hosts": (texts[self.files.hosts] or "").splitlines()}
        if texts[self.files.dns_hosts] is not None:
            described["dns_hosts"] = texts[self.files.dns_hosts].splitlines()
        described.update(running=running, arguments=arguments)
        return described

    def apply(self):
        if self.writes:
            ensure_searchable_directory(self.files.directory)
        for path in self.writes:
            write_atomic(path, self.texts[path], mode=HOSTS_FILE_MODE)
        if self.action in ("stop", "replace"):
            self.process.stop(self.pid)
        if self.action in ("start", "replace"):
            self.pid = self.process.start(self.run_command, self.binary, self.arguments)
        elif self.action == "hangup":
            self.process.hangup(self.pid)
        elif self.action == "stop":
            self.pid = None
        remove_quietly(*self.removals)

    def undo(self):
        for path, text in self.current.items():
            if text is None:
                remove_quietly(path)
            else:
                write_atomic(path, text, mode=HOSTS_FILE_MODE)
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
