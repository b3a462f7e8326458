# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compute host's state, kept where Nova kept its database rows.

One JSON document per host under ``/etc/ansible/facts.d/`` (so ``setup`` exposes it as
``ansible_local.novalite``), changed only under an exclusive lock and replaced atomically.

Sections: ``networks`` (network records by uuid, with this host's ``dhcp_server``),
``fixed_ips`` (allocations by address), ``instances`` (instance records by uuid), and
``floating_ips`` / ``floating_associations`` (the floating IPs this host keeps / binds, by address).
"""

from __future__ import annotations

import contextlib
import json

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import exclusive_lock, read_text, write_atomic
from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import DEFAULT_FACTS_PATH

SCHEMA_VERSION = 1
SECTIONS = ("networks", "fixed_ips", "instances", "floating_ips", "floating_associations")
# ansible_local.novalite, as setup with gather_subset local reads the facts document
LOCAL_FACTS, LOCAL_KEY = "ansible_local", "novalite"


def empty_document():
    document = {"schema_version": SCHEMA_VERSION}
    document.update((section, {}) for section in SECTIONS)
    return document


def as_local_facts(document):
    """The ``ansible_facts`` entry that gives the play ``ansible_local.novalite`` without another
    call to setup (local facts of other files are left out)."""
    return {LOCAL_FACTS: {LOCAL_KEY: document}}


def parse_document(text, origin="facts"):
    """Parse and validate a facts document's JSON text; a missing file (``None``) is an empty one."""
    if text is None or not text.strip():
        return empty_document()
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise NovaliteError("%s is not valid JSON (%s); refusing to overwrite it" % (origin, exc))
    return check_document(document, origin)


def check_document(document, origin="facts"):
    """Validate an already parsed facts document; return it with every section present.

    Sections are added to a shallow copy, so the caller's dict (Ansible's hostvars) stays as it was.
    """
    if not isinstance(document, dict):
        raise NovaliteError("%s does not hold a JSON object" % origin)
    version = document.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise NovaliteError(
            "%s has schema_version %r; this novalite.compute understands up to %d"
            % (origin, version, SCHEMA_VERSION))
    checked = dict(document)
    for section in SECTIONS:
        checked.setdefault(section, {})
    return checked


class Transaction:
    """What one locked read-modify-write saw and left behind."""

    def __init__(self, before, document):
        self.before = before
        self.document = document  # equal to ``before`` but sharing nothing with it: the one to change

    @property
    def changed(self):
        return self.document != self.before


class FactsStore:
    def __init__(self, path=DEFAULT_FACTS_PATH, lock_timeout=300.0):
        self.path = path
        self.lock_path = path + ".lock"
        self.lock_timeout = lock_timeout

    def load(self):
        """A consistent snapshot; writers rename whole files, so no lock is needed to read."""
        return self._parse(read_text(self.path))

    @contextlib.contextmanager
    def transaction(self, write=True):
        """Yield a ``Transaction``; its document is saved on a clean exit if it changed.

        ``write=False`` (check mode) computes the same change and saves nothing; it reads without
        the lock (writers rename whole files, as for ``load``), so it creates nothing either, not
        even the lock file or the facts directory.
        """
        if not write:
            text = read_text(self.path)
            yield Transaction(self._parse(text), self._parse(text))
            return
        with exclusive_lock(self.lock_path, timeout=self.lock_timeout):
            text = read_text(self.path)
            # parsing the text twice is cheaper than deep-copying one parse (0.15 s vs 0.27 s for 60,000 fixed ips)
            transaction = Transaction(self._parse(text), self._parse(text))
            yield transaction
            if transaction.changed:
                write_atomic(self.path, dump_document(transaction.document))

    def _parse(self, text):
        return parse_document(text, origin=self.path)


def dump_document(document):
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
