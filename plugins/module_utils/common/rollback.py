# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one undo contract of the collection, after Nova's ``remove_path_on_error``.

A run records, as it goes, each thing it did and how to take it back. If anything raises
while the run applies its plan (a ``NovaliteError``, an ``OSError`` writing a file, a libvirt
error, a bug), the recorded undos run newest first and the failure leaves as one
``NovaliteError`` that names the step, with the same details from every module:

- ``failed_step``: the step that raised;
- ``rolled_back``: what was undone, newest first;
- ``rollback_failures``: undos that failed themselves (the host may need a look).

Usage::

    with undo_on_failure() as rollback:
        with rollback.step("define domain " + name):
            conn.defineXML(xml)
            rollback.record("undefine domain " + name, lambda: undefine(name))

``apply_steps`` runs plan objects (``name``, ``changed``, ``apply()``, ``undo()``) the same way;
``apply_together`` runs one call per item at once (threads) and records their undos afterwards,
in item order, so the record is never written from two threads.
"""

from __future__ import annotations

import contextlib
import traceback
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

# libvirtd serves 5 calls of one connection at a time by default (libvirtd.conf max_client_requests)
CONCURRENT_CALLS = 4


class Rollback:
    def __init__(self):
        self._undos = []  # (description, undo), oldest first
        self.current_step = None

    def record(self, description, undo):
        """``undo()`` takes back what was just done; ``description`` says what it undoes."""
        self._undos.append((description, undo))

    @contextlib.contextmanager
    def step(self, name):
        """Run the block as step ``name``, so that a failure inside it is reported as that step's."""
        outer, self.current_step = self.current_step, name
        try:
            yield self
        except Exception as exc:
            if not getattr(exc, "failed_step", None):
                exc.failed_step = name  # the innermost step is the one that failed
            raise
        finally:
            self.current_step = outer

    def undo(self):
        """Run every recorded undo, newest first, keeping on after a failed one.

        Returns (undone descriptions, failures as messages).
        """
        undone, failures = [], []
        while self._undos:
            description, undo = self._undos.pop()
            try:
                undo()
                undone.append(description)
            except Exception as exc:  # keep undoing the rest: the first error is the one to report
                failures.append("%s: %s" % (description, _message(exc)))
        return undone, failures

    def forget(self):
        """The run succeeded: nothing recorded is to be undone any more."""
        self._undos = []


@contextlib.contextmanager
def undo_on_failure(rollback=None):
    """Yield a ``Rollback``; if the block raises, undo what it recorded and raise a NovaliteError.

    A ``NovaliteError`` keeps its message (prefixed with the failed step); any other exception
    becomes one that names the step and carries the traceback as ``exception`` (shown with -vvv),
    so a module never dies with a bare traceback. KeyboardInterrupt and SystemExit still undo.
    """
    rollback = rollback or Rollback()
    try:
        yield rollback
    except Exception as exc:
        error = _failure(exc, rollback)
        if error is exc:
            raise
        raise error from exc
    except BaseException:
        rollback.undo()
        raise
    rollback.forget()


def apply_steps(rollback, steps):
    """Apply each changed step in order, its undo recorded before it starts.

    Recorded first because a step that fails half-way must be undone too: every ``undo``
    works from what it finds on the host.
    """
    for step in steps:
        if step.changed:
            with rollback.step(step.name):
                rollback.record(step.name, step.undo)
                step.apply()


def apply_together(rollback, items, step_name, action, undo=None, workers=CONCURRENT_CALLS):
    """``action(item)`` for every item at once, each its own step ``step_name(item)``.

    When every call has returned, ``undo(item)`` (a (description, callable) pair) is recorded for
    each item whose call succeeded, in item order; then the first failure, in item order, is
    raised as its item's step, so the items that did succeed are undone with the rest.
    """
    if not items:
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        outcomes = [pool.submit(action, item) for item in items]
    failed = None
    for item, outcome in zip(items, outcomes):
        if outcome.exception() is None:
            if undo is not None:
                rollback.record(*undo(item))
        elif failed is None:
            failed = (item, outcome.exception())
    if failed is not None:
        item, exc = failed
        with rollback.step(step_name(item)):
            raise exc


def _failure(exc, rollback):
    step = getattr(exc, "failed_step", None) or rollback.current_step
    undone, failures = rollback.undo()
    if isinstance(exc, NovaliteError):
        error, message = exc, exc.msg
    else:
        error, message = NovaliteError(_message(exc), exception=traceback.format_exc()), _message(exc)
    if step and not message.startswith(step + ": "):
        message = "%s: %s" % (step, message)
    if failures:
        message = "%s (rollback incomplete: %s)" % (message, "; ".join(failures))
    error.msg = message
    error.args = (message,)
    error.details.update(failed_step=step, rolled_back=undone, rollback_failures=failures)
    return error


def _message(exc):
    if isinstance(exc, NovaliteError):
        return exc.msg
    if isinstance(exc, OSError) and exc.strerror:
        return "%s: %s" % (exc.strerror, exc.filename) if exc.filename else exc.strerror
    return "%s: %s" % (type(exc).__name__, str(exc) or repr(exc))
