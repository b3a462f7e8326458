# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Undo what a run did when a later step fails, like Nova's ``remove_path_on_error``.

Every step that changes something records how to take it back; on a failure the recorded
undos run newest first, and the original error is raised with what could not be undone.
"""

from __future__ import annotations

import contextlib

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError


class Rollback:
    def __init__(self):
        self._undos = []

    def add(self, description, undo):
        self._undos.append((description, undo))

    def run(self):
        """Run every recorded undo, newest first; the ones that failed, as messages."""
        failures = []
        while self._undos:
            description, undo = self._undos.pop()
            try:
                undo()
            except (NovaliteError, OSError) as exc:  # keep undoing the rest
                failures.append("%s: %s" % (description, getattr(exc, "msg", None) or exc))
        return failures

    @contextlib.contextmanager
    def on_failure(self):
        """Run the undos if the block raises a NovaliteError, then re-raise it."""
        try:
            yield self
        except NovaliteError as exc:
            failures = self.run()
            exc.details["rolled_back"] = not failures
            if failures:
                exc.msg = "%s (rollback incomplete: %s)" % (exc.msg, "; ".join(failures))
                exc.args = (exc.msg,)
                exc.details["rollback_failures"] = failures
            raise
