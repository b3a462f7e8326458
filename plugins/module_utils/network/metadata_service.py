# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metadata server of one network on a compute host: its files, its process and the step that keeps it.

Nova ran ``nova-api-metadata`` on every multi_host network host. Here each network a host
serves has a server of its own, kept like its dnsmasq: the code (network/metadata.py, written
out whole as ``<networks_path>/nova-<bridge>.metadata.py``, so it ships with the collection),
``nova-<bridge>.metadata.pid`` and its access log ``nova-<bridge>.metadata.log`` (0600). It runs
with the host's Python (the module's own interpreter) and listens on the host's DHCP address on
the bridge and the metadata port; ``linux_net``'s DNAT sends the guests' 169.254.169.254:80 there.

The pid file is trusted only when ``/proc/<pid>/cmdline`` is our interpreter running our code
file; a server that died is started again by a re-run, one with other arguments or older code
is replaced, and taking the network down stops it by its pid and removes its files.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import sys
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.files import (
    read_text, remove_quietly, write_atomic)
from ansible_collections.novalite.compute.plugins.module_utils.network import metadata
from ansible_collections.novalite.compute.plugins.module_utils.network.process import KEEP_RUNNING, PidFileProcess

CODE_MODE = 0o644


def server_source():
    """The text of network/metadata.py, read through its loader (a file, or Ansible's module zip)."""
    return inspect.getsource(metadata)


class MetadataFiles:
    def __init__(self, networks_path, bridge):
        self.directory = networks_path
        self.code = os.path.join(networks_path, "nova-%s.metadata.py" % bridge)
        self.pid = os.path.join(networks_path, "nova-%s.metadata.pid" % bridge)
        self.log = os.path.join(networks_path, "nova-%s.metadata.log" % bridge)


def server_arguments(files, network_id, listen, port, facts_path, instances_path):
    """The arguments after ``<python> <code file>``."""
    return ["--listen=%s" % listen, "--port=%d" % port, "--network=%s" % network_id, "--facts=%s" % facts_path,
            "--instances-path=%s" % instances_path, "--pid-file=%s" % files.pid, "--log-file=%s" % files.log]


class MetadataProcess(PidFileProcess):
    """Our server: a live process whose command line is ``<python> <our code file> ...``."""

    def __init__(self, files, proc_root="/proc", send_signal=os.kill, sleep=time.sleep, python=sys.executable):
        super().__init__(files.pid, "the metadata server",
                         lambda argv: len(argv) > 1 and argv[1] == files.code
                         and os.path.basename(argv[0]).startswith("python"), proc_root, send_signal, sleep)
        self.files = files
        self.python = python

    def running(self):
        """(pid, arguments after the code file) of our live server, or (None, None)."""
        pid, argv = super().running()
        return (pid, argv[2:]) if pid else (None, None)

    def start(self, run_command, argv):
        """``argv``: the server's arguments; the interpreter and code file are put before them."""
        return super().start(run_command, [self.python, self.files.code] + list(argv))


class MetadataStep:
    """The server of one network made to run with ``arguments`` (None: stopped and its files removed)."""

    def __init__(self, run_command, process, arguments, source=None, name="metadata"):
        self.name = name
        self.run_command = run_command
        self.process = process
        self.files = process.files
        self.pid, self.running_arguments = process.running()
        if arguments is KEEP_RUNNING:
            arguments = self.running_arguments
        self.arguments = arguments
        self.current_code = read_text(self.files.code)
        self.code = source if arguments is not None else None
        self.write_code = self.code is not None and self.current_code != self.code
        self.remove_files = arguments is None and any(
            os.path.exists(path) for path in (self.files.code, self.files.pid, self.files.log))
        self.action = self._action()
        self.changed = bool(self.write_code or self.remove_files or self.action)
        self.before = self._describe(self.current_code, self.pid is not None, self.running_arguments)
        self.after = self._describe(self.code if arguments is not None else None, arguments is not None, arguments)

    def _action(self):
        if self.arguments is None:
            return "stop" if self.pid else None
        if self.pid is None:
            return "start"
        return "replace" if self.running_arguments != self.arguments or self.write_code else None

    @staticmethod
    def _describe(code, running, arguments):
        digest = hashlib.sha256(code.encode("utf-8")).hexdigest()[:16] if code is not None else None
        return {"code": digest, "running": running, "arguments": arguments if running else None}

    def apply(self):
        if self.write_code:
            write_atomic(self.files.code, self.code, mode=CODE_MODE)
        if self.action in ("stop", "replace"):
            self.process.stop(self.pid)
            self.pid = None
        if self.action in ("start", "replace"):
            self.pid = self.process.start(self.run_command, self.arguments)
        if self.remove_files:
            remove_quietly(self.files.code, self.files.pid, self.files.log)

    def undo(self):
        pid, _arguments = self.process.running()
        if pid and self.action in ("start", "replace"):
            self.process.stop(pid)
        if self.current_code is None:
            remove_quietly(self.files.code)
        elif self.write_code or self.remove_files:
            write_atomic(self.files.code, self.current_code, mode=CODE_MODE)
        if self.action in ("stop", "replace") and self.running_arguments:
            self.process.start(self.run_command, self.running_arguments)
