# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files that readers see whole, and the locks that keep writers apart.

``write_atomic`` replaces a file through a temporary file and a rename, so a reader sees the
old content or the new, never half of it. ``exclusive_lock`` is Nova's
``synchronized(external=True)``: an inter-process lock on a file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import LockTimeout

LOCK_POLL_SECONDS = 0.05


def write_atomic(path, content, mode=0o644):
    """Replace ``path`` with ``content`` (str or bytes) via a temp file and rename."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_path, mode)
        os.rename(tmp_path, path)
    except BaseException:
        remove_quietly(tmp_path)
        raise
    fsync_directory(directory)


def read_text(path, default=None):
    """The file's text, or ``default`` when it does not exist."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return default


def read_bytes(path):
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def restore_file(path, content):
    """Put back what ``read_bytes`` saw: the old bytes, or no file at all."""
    if content is None:
        remove_quietly(path)
    else:
        write_atomic(path, content)


def remove_quietly(*paths):
    """Remove each file; one that is already gone is no error."""
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def fsync_directory(directory):
    """Make a rename in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
        time.sleep(LOCK_POLL_SECONDS)
