# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end of ``/var/log/libvirt/qemu/<name>.log``: why QEMU refused to run a guest."""

from __future__ import annotations

import os

QEMU_LOG_DIR = "/var/log/libvirt/qemu"
TAIL_LINES = 15
TAIL_BYTES = 16384


def qemu_log_tail(name, log_dir=None, lines=TAIL_LINES):
    path = os.path.join(log_dir or QEMU_LOG_DIR, name + ".log")
    try:
        with open(path, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - TAIL_BYTES))
            text = log.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return "(no %s)" % path
    return "\n".join(text.splitlines()[-lines:])
