# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A daemon a network keeps on its host (dnsmasq, the metadata server), known by its pid file.

Nova found dnsmasq by its pid file and checked ``/proc/<pid>/cmdline`` before signalling it
(``linux_net._dnsmasq_pid_for``, ``restart_dhcp``): a pid file can outlive its process and the
pid be reused. ``PidFileProcess`` does the same for any daemon that writes its own pid file:
``matches(argv)`` says whether a live process's command line is ours. Daemons fork into the
background and outlive the module; ``start`` returns once the daemon has written its pid file.
``send_signal`` and ``proc_root`` are replaceable so that unit tests need no processes.
"""

from __future__ import annotations

import os
import signal
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked

STOP_SECONDS = 10.0
KEEP_RUNNING = object()  # a step's ``arguments`` that keep whatever runs now (taken from the step's own probe)


class PidFileProcess:
    """``what`` names the daemon in messages; ``matches(argv)`` recognises its command line."""

    def __init__(self, pid_file, what, matches, proc_root="/proc", send_signal=os.kill, sleep=time.sleep):
        self.pid_file = pid_file
        self.what = what
        self.matches = matches
        self.proc_root = proc_root
        self.send_signal = send_signal
        self.sleep = sleep

    def running(self):
        """(pid, argv) of our live daemon, or (None, None)."""
        pid = _pid_from(read_text(self.pid_file))
        if pid is None or not self.alive(pid):
            return None, None
        argv = read_proc(os.path.join(self.proc_root, str(pid), "cmdline")).split("\0")[:-1]
        if not argv or not self.matches(argv):
            return None, None
        return pid, argv

    def start(self, run_command, argv):
        run_checked(run_command, argv)  # returns once the daemon wrote its pid file
        pid, _argv = self.running()
        if pid is None:
            raise NovaliteError("%s started but %s does not name it running" % (self.what, self.pid_file))
        return pid

    def hangup(self, pid):
        self.send_signal(pid, signal.SIGHUP)

    def stop(self, pid):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            self._signal_quietly(pid, sig)
            deadline = time.monotonic() + STOP_SECONDS
            while time.monotonic() < deadline:
                if not self.alive(pid):
                    return
                self.sleep(0.05)
        raise NovaliteError("%s pid %d did not stop" % (self.what, pid))

    def _signal_quietly(self, pid, sig):
        try:
            self.send_signal(pid, sig)
        except ProcessLookupError:
            pass

    def alive(self, pid):
        """True while the process exists and is not a zombie (no init may be there to reap it)."""
        stat = read_proc(os.path.join(self.proc_root, str(pid), "stat"))
        return bool(stat) and stat.rsplit(")", 1)[-1].split()[0] != "Z"


def read_proc(path):
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
