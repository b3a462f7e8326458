# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's update_dhcp/restart_dhcp (and kill_dhcp) as one step: hosts file, then the process.

A changed hosts file is applied with SIGHUP; a dead dnsmasq is started; one running with other
flags is replaced (SIGHUP does not re-read them). dnsmasq drops root before it reads the hosts
file, so the file is 0644 and every directory above it must be searchable by others.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text, remove_quietly, write_atomic
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput

HOSTS_FILE_MODE = 0o644
DIRECTORY_MODE = 0o755
KEEP_RUNNING = object()  # ``arguments`` that keep whatever runs now: taken from the step's own probe


class DnsmasqStep:
    """``hosts_text`` None removes the files; ``arguments`` None stops dnsmasq, KEEP_RUNNING keeps its flags.

    ``start`` False only HUPs a running dnsmasq (a release does not bring a dead one back).
    """

    name = "dnsmasq"

    def __init__(self, run_command, process, binary, hosts_text, arguments, start=True):
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
            ensure_directory(self.files.directory)
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


def ensure_directory(directory):
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
