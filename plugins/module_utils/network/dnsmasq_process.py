# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dnsmasq of one network: found by its pid file, trusted only when /proc agrees.

Nova sent SIGHUP to the pid in the pid file when ``/proc/<pid>/cmdline`` named the hosts
file; here the pid must also be a live ``dnsmasq`` (a pid file can outlive its process and
the pid be reused). dnsmasq forks into the background and outlives the module.
"""

from __future__ import annotations

import os
import signal
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

STOP_SECONDS = 10.0


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
