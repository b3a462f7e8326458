# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exclusive inter-process locks on files, like Nova's ``synchronized(external=True)``."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import LockTimeout

POLL_SECONDS = 0.05


@contextlib.contextmanager
def exclusive_lock(path, timeout=300.0):
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the ``with`` block.

    ``flock`` rather than ``lockf``: it belongs to the open file, so two opens in one
    process (threads, or a module that nests locks) exclude each other too.
    """
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, timeout)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


def _acquire(fd, path, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            raise LockTimeout("timed out after %ss waiting for lock %s" % (timeout, path), lock=path)
        time.sleep(POLL_SECONDS)
