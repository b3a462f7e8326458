# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole-file writes that readers see either before or after, never half-way."""

from __future__ import annotations

import os
import tempfile


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
