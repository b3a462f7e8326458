# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's ``remove_path_on_error`` for a whole run: what this run created goes if it fails."""

from __future__ import annotations

import contextlib
import errno
import os


class CreatedPaths:
    """Files and directories created so far, removed newest first by ``undo``."""

    def __init__(self):
        self.paths = []

    def add(self, path):
        self.paths.append(path)

    def undo(self):
        for path in reversed(self.paths):
            _remove(path)
        self.paths = []


@contextlib.contextmanager
def removed_on_error(created):
    """Undo ``created`` when the block raises (anything: a half-made instance is never kept)."""
    try:
        yield created
    except BaseException:
        created.undo()
        raise


def _remove(path):
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            os.rmdir(path)  # only a directory this run made, and only once it is empty again
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno != errno.ENOTEMPTY:  # another module wrote into the directory: keep it
            raise
