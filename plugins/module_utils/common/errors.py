# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors that modules turn into ``fail_json`` with the message as it stands."""

from __future__ import annotations


class NovaliteError(Exception):
    """A failure the user can act on; ``details`` are returned beside ``msg``."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


class InvalidInput(NovaliteError):
    """Bad input, detected before anything was changed."""


class CommandFailed(NovaliteError):
    """An external command exited non-zero."""

    def __init__(self, args, rc, stdout, stderr):
        shown = " ".join(str(a) for a in args)
        super().__init__(
            "command failed (rc=%d): %s: %s" % (rc, shown, (stderr or stdout).strip()),
            cmd=list(args), rc=rc, stdout=stdout, stderr=stderr,
        )


class LockTimeout(NovaliteError):
    """Another run held a lock for longer than we were willing to wait."""
