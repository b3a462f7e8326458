# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply a plan's steps, or leave the host as it was (Nova's remove_path_on_error, for a host)."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError


def apply_or_undo(steps):
    """Apply the changed ``steps`` in order; if one fails, undo the applied ones in reverse.

    Every step's ``undo`` works from what it finds, so it also cleans up after its own failed
    apply. A NovaliteError leaves with ``rolled_back`` (and any ``rollback_failures``) in its details.
    """
    done = []
    try:
        for step in steps:
            if step.changed:
                done.append(step)  # before apply: a step that fails half-way is undone too
                step.apply()
    except NovaliteError as error:
        error.details.update(_undo(done))
        raise
    except BaseException:  # a bug or an interrupt, not a NovaliteError: still put the host back
        _undo(done)
        raise


def _undo(done):
    report = {"rolled_back": [step.name for step in reversed(done)], "rollback_failures": []}
    for step in reversed(done):
        try:
            step.undo()
        except NovaliteError as error:  # keep undoing the others; the original error is the one to show
            report["rollback_failures"].append("%s: %s" % (step.name, error.msg))
    return report
