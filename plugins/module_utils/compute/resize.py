# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance_resize module's work: the disk half of Nova's resize and cold migration.

Nova's libvirt driver (``nova/virt/libvirt/driver.py``) and compute manager
(``nova/compute/manager.py``), one state of the module for each:

- ``migrated``, on the source (``resize_instance`` / ``migrate_disk_and_power_off``): the domain is
  destroyed and undefined, ``<dir>`` becomes ``<dir>_resize``, and its disk (and config drive) are
  copied into the target's ``<dir>``: on the same host with a local copy, to another host through
  the target's libvirtd at the migration URI (``virt/remote_files.py``). The disk goes as
  ``disk.migrated``, next to the overlay image_cache makes on the target, which ensures the
  cached base. A migration record (the host facts' ``migrations`` section, Nova's ``migrations``
  table) keeps the instance record as it was, for a revert and for the resource tracker, which
  holds the old flavor on this host until the resize is confirmed or reverted.
- ``finished``, on the target (``finish_migration``, ``_disk_resize``): ``disk.migrated`` becomes the
  disk (pointed at this host's base when instances_path differs) and is grown to the new
  flavor's root disk with its filesystem (``image/instance_disk.py``); never shrunk.
- ``confirmed``, on the source (``confirm_migration``, ``_cleanup_resize``): ``<dir>_resize`` and
  the migration record go.
- ``reverted``, on the source (``finish_revert_migration``): ``<dir>_resize`` is ``<dir>`` again and
  the migration record goes (the role defines and starts the old domain from the old record).

Every state is idempotent, checks its whole batch first, and applies through common/rollback.py:
a failure while migrating starts the instance again on the source, as it was.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import remove_instance_dir
from ansible_collections.novalite.compute.plugins.module_utils.compute.resize_batch import (
    FINISHED, REPLACED_DISK, SENT_FILES, STAGED_DISK, ResizeSpec, Service)
from ansible_collections.novalite.compute.plugins.module_utils.image.instance_disk import (
    DiskGrower, disk_chain, find_grow_tools, rebase_onto, root_gb_bytes)
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    ACTIVE_STATES, call, find_domain, libvirt, libvirt_connection, power_state, require_libraries)
from ansible_collections.novalite.compute.plugins.module_utils.virt.remote_files import RemoteDirectory, remove_sent

STATES = ("migrated", "finished", "confirmed", "reverted")


def ensure_state(module):
    """``run_module`` entry point of instance_resize."""
    params = module.params
    specs = [ResizeSpec(raw, index, params) for index, raw in enumerate(params["instances"])]
    validate.reject_duplicates([spec.uuid for spec in specs], "instances: uuid")
    validate.reject_duplicates([spec.name for spec in specs], "instances: name")
    service = {"migrated": MigrateDisks, "finished": FinishDisks, "confirmed": Confirm, "reverted": Revert}
    return service[params["state"]](params, specs, module).run(module.check_mode)


# --- migrated: the source ---------------------------------------------------------------------

class MigrateDisks(Service):
    """Nova's migrate_disk_and_power_off for the batch."""

    def plan(self):
        require_libraries()
        self.recorded = self._migrations()
        self.domains = {}
        with libvirt_connection(self.params["uri"], read_only=True) as conn:
            for spec in self.specs:
                self._plan_one(conn, spec)
        # the targets must answer before any instance is stopped for them
        for uri in sorted({spec.target_uri for spec in self.specs if self.changes(spec) and not spec.same_host}):
            with libvirt_connection(uri, read_only=True):
                pass

    def _plan_one(self, conn, spec):
        changes, result = self.changes(spec), self.results[spec.name]
        domain = find_domain(conn, spec.name)
        recorded = self.recorded.get(spec.uuid)
        moved = os.path.isdir(spec.resize_dir)
        if domain is not None and domain.UUIDString() != spec.uuid:
            raise InvalidInput("%s: domain %s has uuid %s, not %s"
                               % (spec.what, spec.name, domain.UUIDString(), spec.uuid))
        if recorded and recorded.get("status") == FINISHED and moved and domain is None:
            result["disk"] = disk_chain(spec.resize_file("disk")).as_dict()
            return  # migrated already: a re-run
        if moved and (os.path.isdir(spec.instance_dir) or domain is not None):
            raise InvalidInput("%s: both %s and %s exist (a resize half done by hand?); delete one"
                               % (spec.what, spec.instance_dir, spec.resize_dir))
        source_dir = spec.resize_dir if moved else spec.instance_dir
        disk = os.path.join(source_dir, "disk")
        if not os.path.isfile(disk):
            raise InvalidInput("%s: no disk at %s" % (spec.what, disk))
        chain = disk_chain(disk)
        if chain.backing_file and chain.base_root_gb is None:
            raise InvalidInput("%s: disk %s is backed by %s, which is not a _base file a target can cache"
                               % (spec.what, disk, chain.backing_file))
        result.update(disk=chain.as_dict(), power_state=power_state(domain, spec.name) if domain else "absent")
        if domain is not None:
            self.domains[spec.name] = (call("reading %s" % spec.name, domain.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE),
                                       result["power_state"] in ACTIVE_STATES)
            if result["power_state"] in ACTIVE_STATES:
                changes.append("destroy")
            changes.append("undefine")
        if not moved:
            changes.append("move %s to %s" % (spec.instance_dir, spec.resize_dir))
        where = "" if spec.same_host else spec.target_host + ":"
        for key, name in SENT_FILES:
            local_name = os.path.basename(spec.file(key))
            if os.path.isfile(os.path.join(source_dir, local_name)):
                changes.append("copy %s to %s%s" % (local_name, where, os.path.join(spec.target_dir, name)))
        changes.append("record the migration")

    def will_exist(self, spec, path):
        if path == spec.resize_dir:
            return True
        return spec.same_host  # the staged disk is in <dir> on the same host

    def planned_migrations(self, before):
        planned = dict(before)
        for spec in self.specs:
            if self.changes(spec):
                planned[spec.uuid] = self._migration(spec)
        return planned

    @contextlib.contextmanager
    def opened(self):
        with libvirt_connection(self.params["uri"]) as conn:
            self.conn = conn
            yield

    def apply(self, rollback):
        for spec in self.specs:
            if self.changes(spec):
                self._migrate_one(self.conn, spec, rollback)

    def _migrate_one(self, conn, spec, rollback):
        name = spec.name
        if name in self.domains:
            xml, running = self.domains[name]
            domain = find_domain(conn, name)
            if running:
                with rollback.step("destroying %s" % name):
                    rollback.record("start %s again" % name, lambda: _start(conn, name))
                    call("destroying %s" % name, domain.destroy)
            with rollback.step("undefining %s" % name):
                call("undefining %s" % name, domain.undefine)
                rollback.record("define %s again" % name, lambda: call("defining %s" % name, conn.defineXML, xml))
        if not os.path.isdir(spec.resize_dir):
            with rollback.step("moving %s to %s" % (spec.instance_dir, spec.resize_dir)):
                os.rename(spec.instance_dir, spec.resize_dir)
                rollback.record("move %s back" % spec.resize_dir,
                                lambda: os.rename(spec.resize_dir, spec.instance_dir))
        sent = self._copy_local(spec, rollback) if spec.same_host else self._send(spec, rollback)
        self.results[name]["sent"] = sent
        migration = self._migration(spec)
        self.write_migrations(rollback, lambda section: section.__setitem__(spec.uuid, migration),
                              "recording the migration of %s" % name)

    def _copy_local(self, spec, rollback):
        with rollback.step("copying the disk of %s into %s" % (spec.name, spec.instance_dir)):
            if not os.path.isdir(spec.instance_dir):
                os.mkdir(spec.instance_dir, 0o755)
                rollback.record("remove %s" % spec.instance_dir, lambda: shutil.rmtree(spec.instance_dir))
            sent = []
            for key, name in SENT_FILES:
                source = spec.resize_file(key)
                if os.path.isfile(source):
                    target = os.path.join(spec.instance_dir, name)
                    shutil.copyfile(source, target)
                    shutil.copymode(source, target)
                    sent.append({"source": source, "target": target, "bytes": os.stat(target).st_size})
        return sent

    def _send(self, spec, rollback):
        what = "%s to %s" % (spec.name, spec.target_host)
        with rollback.step("copying the disk of %s to %s" % (spec.name, spec.target_host)):
            with libvirt_connection(spec.target_uri) as target:
                with RemoteDirectory(target, spec.target_dir, what) as directory:
                    rollback.record("remove what was sent to %s:%s" % (spec.target_host, spec.target_dir),
                                    lambda: _remove_sent(spec, directory))
                    return [directory.send(spec.resize_file(key), name) for key, name in SENT_FILES
                            if os.path.isfile(spec.resize_file(key))]

    def _migration(self, spec):
        record = dict(spec.record, task_state=None)
        return {
            "instance_uuid": spec.uuid, "instance_name": spec.name, "display_name": record.get("display_name"),
            "project_id": record.get("project_id"), "source_compute": record.get("host"),
            "dest_compute": record.get("host") if spec.same_host else spec.target_host,
            "old_flavor": record.get("flavor"), "new_flavor": spec.new_flavor or record.get("flavor"),
            "status": FINISHED, "resize_dir": spec.resize_dir, "old_record": record,
            "created_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def _start(conn, name):
    """Start ``name`` again (an undo): nothing to do when it still runs (the destroy never happened)."""
    domain = find_domain(conn, name)
    if domain is None:
        raise NovaliteError("%s is not defined any more: it cannot be started again" % name)
    if not domain.isActive():
        call("starting %s" % name, domain.createWithFlags, 0)


def _remove_sent(spec, directory):
    with libvirt_connection(spec.target_uri) as target:
        remove_sent(target, spec.target_dir, directory.sent, directory.made_directory,
                    "%s to %s" % (spec.name, spec.target_host))


# --- finished: the target ---------------------------------------------------------------------

class FinishDisks(Service):
    """Nova's finish_migration, disk half: the migrated disk in place, grown to the new root_gb."""

    def plan(self):
        self.tools = find_grow_tools(self.module.get_bin_path)
        assume = self.module.check_mode and self.params.get("assume_prepared")
        base_dir = os.path.join(self.params["instances_path"], "_base")
        for spec in self.specs:
            changes, result = self.changes(spec), self.results[spec.name]
            staged, disk = os.path.join(spec.instance_dir, STAGED_DISK), spec.file("disk")
            if not os.path.isfile(staged) and not os.path.isfile(disk):
                if not assume:
                    raise InvalidInput("%s: neither %s nor %s exists (instance_resize state=migrated sends it)"
                                       % (spec.what, staged, disk))
                result["assumed"] = [staged]
                changes.append("use the migrated disk")
                continue
            chain = disk_chain(staged if os.path.isfile(staged) else disk)
            if os.path.isfile(staged):
                changes.append("use the migrated disk")
                if chain.backing_file and not os.path.exists(chain.backing_file):
                    local = os.path.join(base_dir, chain.base_name or "")
                    if not chain.base_name or not os.path.exists(local):
                        raise InvalidInput("%s: the migrated disk's base %s is not cached here (image_cache makes it)"
                                           % (spec.what, chain.backing_file))
                    changes.append("point the disk at %s" % local)
                    result["rebase_to"] = local
            wanted = root_gb_bytes(spec.root_gb)
            if wanted and chain.virtual_size > wanted:
                raise InvalidInput("%s: the disk is %d bytes, larger than root_gb %d: a disk is never shrunk"
                                   % (spec.what, chain.virtual_size, spec.root_gb))
            if wanted > chain.virtual_size:
                changes.append("grow the disk to %d GiB" % spec.root_gb)
            result["virtual_size"] = max(wanted, chain.virtual_size)

    def will_exist(self, spec, path):
        return os.path.isdir(path)

    def apply(self, rollback):
        grower = DiskGrower(self.module.run_command, self.tools)
        for spec in self.specs:
            changes, result = self.changes(spec), self.results[spec.name]
            disk, staged, replaced = spec.file("disk"), os.path.join(spec.instance_dir, STAGED_DISK), \
                os.path.join(spec.instance_dir, REPLACED_DISK)
            if "use the migrated disk" in changes:
                with rollback.step("putting the migrated disk of %s in place" % spec.name):
                    if result.get("rebase_to"):
                        rebase_onto(self.module.run_command, self.tools["qemu-img"], staged, result["rebase_to"])
                    if os.path.exists(disk):
                        os.rename(disk, replaced)
                        rollback.record("put back the disk image_cache made",
                                        lambda disk=disk, replaced=replaced: os.rename(replaced, disk))
                    os.rename(staged, disk)
                    rollback.record("put back %s" % staged, lambda disk=disk, staged=staged: os.rename(disk, staged))
            if spec.root_gb:
                with rollback.step("growing the disk of %s to %d GiB" % (spec.name, spec.root_gb)):
                    result["filesystem"] = grower.grow(disk, root_gb_bytes(spec.root_gb))
        rollback.forget()  # the disks are in place; the replaced overlays image_cache made can go
        for spec in self.specs:
            replaced = os.path.join(spec.instance_dir, REPLACED_DISK)
            if os.path.exists(replaced):
                os.unlink(replaced)


# --- confirmed and reverted: the source -------------------------------------------------------

class Confirm(Service):
    """Nova's confirm_migration: the source's leftovers go."""

    def plan(self):
        self.recorded = self._migrations()
        for spec in self.specs:
            if os.path.lexists(spec.resize_dir):
                self.changes(spec).append("remove %s" % spec.resize_dir)
            if spec.uuid in self.recorded:
                self.changes(spec).append("drop the migration record")

    def will_exist(self, spec, path):
        return os.path.isdir(path) and path != spec.resize_dir

    def planned_migrations(self, before):
        return {u: m for u, m in before.items() if u not in {spec.uuid for spec in self.specs}}

    def apply(self, rollback):
        for spec in self.specs:
            if os.path.lexists(spec.resize_dir):
                with rollback.step("removing %s" % spec.resize_dir):
                    remove_instance_dir(spec.resize_dir)
        self._drop(rollback)

    def _drop(self, rollback):
        uuids = [spec.uuid for spec in self.specs if spec.uuid in self.recorded]
        if uuids:
            self.write_migrations(rollback, lambda section: [section.pop(u, None) for u in uuids],
                                  "dropping the migration records")


class Revert(Confirm):
    """Nova's finish_revert_migration, disk half: ``<dir>_resize`` is the instance's directory again."""

    def plan(self):
        self.recorded = self._migrations()
        for spec in self.specs:
            if os.path.isdir(spec.resize_dir):
                if os.path.lexists(spec.instance_dir):
                    raise InvalidInput("%s: %s exists: the resized instance must be removed before a revert "
                                       "(libvirt_domain and image_cache state=absent)" % (spec.what, spec.instance_dir))
                self.changes(spec).append("move %s back to %s" % (spec.resize_dir, spec.instance_dir))
            elif not os.path.isdir(spec.instance_dir):
                raise NovaliteError("%s: neither %s nor %s exists: nothing to revert to"
                                    % (spec.what, spec.resize_dir, spec.instance_dir))
            if spec.uuid in self.recorded:
                self.changes(spec).append("drop the migration record")
                self.results[spec.name]["old_record"] = self.recorded[spec.uuid].get("old_record")

    def will_exist(self, spec, path):
        return path == spec.instance_dir

    def apply(self, rollback):
        for spec in self.specs:
            if os.path.isdir(spec.resize_dir):
                with rollback.step("moving %s back to %s" % (spec.resize_dir, spec.instance_dir)):
                    os.rename(spec.resize_dir, spec.instance_dir)
                    rollback.record("move %s again" % spec.instance_dir,
                                    lambda spec=spec: os.rename(spec.instance_dir, spec.resize_dir))
        self._drop(rollback)
