# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every state of instance_resize shares (``compute/resize.py``): an instance of the batch, the
host facts' ``migrations`` section (Nova's migrations table) it keeps, and the result and diff of a call.

A migration record, by instance uuid, on the resize's source host: ``instance_uuid``, ``instance_name``,
``display_name``, ``project_id``, ``source_compute``, ``dest_compute``, ``old_flavor``, ``new_flavor``,
``status`` (``finished`` once the disk is on the target), ``resize_dir`` and ``old_record`` (the instance
record as it was, for a revert). It lasts until the resize is confirmed or reverted.
"""

from __future__ import annotations

import contextlib
import os

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import MovingInstance, instance_file
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import undo_on_failure

MIGRATIONS = "migrations"  # the facts section of this module (Nova's migrations table)
RESIZE_SUFFIX = "_resize"  # Nova's <instance dir>_resize
STAGED_DISK = "disk.migrated"
REPLACED_DISK = "disk.replaced"
SENT_FILES = (("disk", STAGED_DISK), ("config_drive", "disk.config"))  # (instance file key, name on the target)
FINISHED = "finished"  # Nova's migration status once the disk is on the target


class ResizeSpec(MovingInstance):
    """One instance of the resize batch (an entry of ``instances``), checked."""

    def __init__(self, raw, index, params):
        super().__init__(raw, index, params["instances_path"], raw.get("target_instances_path"),
                         "instances[%d].target_instances_path" % index)
        what = "instances[%d]" % index
        self.resize_dir = self.instance_dir + RESIZE_SUFFIX
        self.same_host = bool(raw.get("same_host"))
        self.record = raw.get("record")
        self.new_flavor = raw.get("new_flavor")
        self.root_gb = validate.whole_number(raw.get("root_gb") or 0, what + ".root_gb")
        if params["state"] == "migrated":
            self._check_migration(what)

    def _check_migration(self, what):
        if not self.same_host and not (self.target_host and self.target_uri):
            raise InvalidInput("%s: a migration to another host needs target_host and target_uri" % what)
        if self.same_host and self.target_dir != self.instance_dir:
            raise InvalidInput("%s: on the same host the target directory is the instance's own" % what)
        if not isinstance(self.record, dict) or self.record.get("uuid") != self.uuid:
            raise InvalidInput("%s: record must be the instance's record (uuid %s), kept for a revert"
                               % (what, self.uuid))

    def resize_file(self, key):
        return instance_file(os.path.dirname(self.resize_dir), os.path.basename(self.resize_dir), key)


class Service:
    """What every state shares: the batch, the facts document, the result."""

    def __init__(self, params, specs, module):
        self.params = params
        self.specs = specs
        self.module = module
        self.results = {spec.name: {"name": spec.name, "uuid": spec.uuid, "changes": []} for spec in specs}

    def changes(self, spec):
        return self.results[spec.name]["changes"]

    def run(self, check_mode):
        before = self._migrations()
        self.plan()
        if not check_mode and any(self.changes(spec) for spec in self.specs):
            with self.opened(), undo_on_failure() as rollback:  # the undos still have what apply used
                self.apply(rollback)
        after = self._migrations() if not check_mode else self.planned_migrations(before)
        uuids = [spec.uuid for spec in self.specs]
        return {
            "changed": any(self.changes(spec) for spec in self.specs),
            "instances": [self.results[spec.name] for spec in self.specs],
            "diff": {"before": _diff_view(before, self.specs, uuids, True),
                     "after": _diff_view(after, self.specs, uuids, not check_mode, self)},
        }

    def _migrations(self):
        return dict(FactsStore(self.params["facts_path"]).load().get(MIGRATIONS) or {})

    def planned_migrations(self, before):
        return before

    def opened(self):
        """What apply and its undos use, open around both (a libvirt connection)."""
        return contextlib.nullcontext()

    def write_migrations(self, rollback, change, what):
        """Change the migrations section under the facts lock; the undo puts back what was there."""
        store = FactsStore(self.params["facts_path"])
        with rollback.step(what):
            with store.transaction() as facts:
                section = facts.document.setdefault(MIGRATIONS, {})
                previous = dict(section)
                change(section)

            def restore():
                with store.transaction() as again:
                    again.document[MIGRATIONS] = previous
            rollback.record("restore the migration records", restore)


def _diff_view(migrations, specs, uuids, files_are_real, planner=None):
    """What a diff shows for the batch: its migration records and which directories exist."""
    view = {"migrations": {u: migrations[u] for u in uuids if u in migrations}, "directories": {}}
    for spec in specs:
        for path in (spec.instance_dir, spec.resize_dir):
            exists = os.path.isdir(path) if files_are_real else planner.will_exist(spec, path)
            view["directories"][path] = exists
    return view
