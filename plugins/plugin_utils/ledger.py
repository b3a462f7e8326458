# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's memory of values it handed out that no host's facts show yet.

Nova had one database to ask "is this taken?". Here the answer is the union of every compute
host's facts, gathered at the start of a run; two runs started together would both miss what
the other is about to commit. Handing values out under this ledger's lock, and remembering them
until a TTL passes (by then the hosts' facts show them), closes that gap.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text, write_atomic
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import exclusive_lock

DEFAULT_STATE_DIR = "~/.ansible/novalite"
DEFAULT_TTL_SECONDS = 3600.0


class LedgerSession:
    """Reservations of one kind ("instance_ids", "fixed_ips", ...) keyed by what holds them."""

    def __init__(self, entries, now, ttl):
        self.entries = entries
        self.now = now
        self.ttl = ttl

    def reserved(self, kind):
        """{key: value} of the live reservations of ``kind``."""
        return {key: entry["value"] for key, entry in self.entries.get(kind, {}).items()}

    def reserve(self, kind, key, value):
        self.entries.setdefault(kind, {})[key] = {"value": value, "expires": self.now + self.ttl}

    def forget(self, kind, key):
        self.entries.get(kind, {}).pop(key, None)


class ReservationLedger:
    def __init__(self, state_dir=DEFAULT_STATE_DIR, name="reservations", ttl=DEFAULT_TTL_SECONDS,
                 lock_timeout=120.0, clock=time.time):
        directory = os.path.expanduser(state_dir)
        self.path = os.path.join(directory, name + ".json")
        self.ttl = ttl
        self.lock_timeout = lock_timeout
        self.clock = clock

    @contextlib.contextmanager
    def session(self, write=True):
        """Hold the controller lock; saves what the session reserved unless ``write`` is false.

        ``write=False`` (check mode) reads the ledger without the lock and creates nothing, not
        even the lock file or the state directory: the ledger is replaced whole by a rename, so
        a read without the lock still sees one consistent version.
        """
        if not write:
            now = self.clock()
            yield LedgerSession(self._load(now), now, self.ttl)
            return
        with exclusive_lock(self.path + ".lock", timeout=self.lock_timeout):
            now = self.clock()
            text = read_text(self.path)
            before = self._parse(text, now)
            session = LedgerSession(self._parse(text, now), now, self.ttl)  # a second parse: a deep copy, quicker
            yield session
            if session.entries != before:
                write_atomic(self.path, ledger_text(session.entries), mode=0o600)

    def _load(self, now):
        return self._parse(read_text(self.path), now)

    def _parse(self, text, now):
        if not text:
            return {}
        try:
            entries = json.loads(text)
        except ValueError as exc:
            raise NovaliteError("reservation ledger %s is not valid JSON (%s): remove it to start afresh"
                                % (self.path, exc))
        return {kind: {key: entry for key, entry in by_key.items() if entry["expires"] > now}
                for kind, by_key in entries.items()}


def ledger_text(entries):
    """The ledger's JSON, one reservation a line, keys sorted.

    Each line is dumped by json's C encoder: ``indent`` would use the pure-Python one, seconds
    for the tens of thousands of reservations of a large batch.
    """
    kinds = []
    for kind in sorted(entries):
        lines = ["  %s: %s" % (json.dumps(key), json.dumps(entries[kind][key], sort_keys=True))
                 for key in sorted(entries[kind])]
        kinds.append(" %s: {%s}" % (json.dumps(kind), ("\n" + ",\n".join(lines) + "\n ") if lines else ""))
    return "{%s}\n" % (("\n" + ",\n".join(kinds) + "\n") if kinds else "")
