# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host half of a snapshot: an instance's disk (its qcow2 overlay and the ``_base`` file behind it)
converted into one standalone qcow2 image, as Nova's libvirt driver ``snapshot`` did
(``nova/virt/libvirt/driver.py``, ``nova/virt/images.py``).

The disk is read consistently: a running guest is paused for the conversion (QEMU drains and
flushes its I/O when it stops the vCPUs) and resumed right after, as Nova's cold snapshot stopped
the guest around ``qemu-img convert``; a paused, stopped or suspended guest writes nothing
anyway. ``-U`` lets qemu-img read an image a paused QEMU still holds. The image is written into
the task's temporary directory, which the action plugin made (``_ansible_tmpdir``), as
``snapshot-<image id>.qcow2`` (``.part`` until it is whole), with its size, md5 checksum and
virtual size, for the controller to fetch over the connection and remove with the directory
(plugins/action/instance_snapshot.py).

The records say so meanwhile: task_state ``image_snapshot`` while the disk is converted,
``image_uploading`` until the controller has the image, then none (``cleanup``, which also
removes the staged file). A failure resumes the guest, removes the partial image and puts the
records back (common/rollback.py).
"""

from __future__ import annotations

import hashlib
import json
import os

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.common.files import remove_quietly
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import instance_file
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import undo_on_failure
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_actions import (
    IMAGE_SNAPSHOT, IMAGE_UPLOADING, SNAPSHOT, batch_uuids, check_action, recorded, state_fields, update_records)
from ansible_collections.novalite.compute.plugins.module_utils.image.fetch import C_LOCALE
from ansible_collections.novalite.compute.plugins.module_utils.virt import power
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    call, find_domain, libvirt_connection, require_libraries)

SNAPSHOT_FORMAT = "qcow2"  # what Nova uploaded for a qcow2-backed instance (snapshot_image_format)
CHUNK = 1024 * 1024


def staged_path(staging_dir, image_id):
    """Where the snapshot that becomes image ``image_id`` is written on the host."""
    return os.path.join(staging_dir, "snapshot-%s.%s" % (validate.uuid(image_id, "image_id"), SNAPSHOT_FORMAT))


def md5sum(path):
    """The md5 of the file, as Glance's ``checksum`` records it."""
    digest = hashlib.md5(usedforsecurity=False)  # pylint: disable=unexpected-keyword-arg
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class QemuImgSnapshot:
    """``qemu-img info`` and ``convert`` of an instance's own disk (``-U``: a paused QEMU may hold it)."""

    def __init__(self, run_command, qemu_img):
        self.run_command = run_command
        self.qemu_img = qemu_img

    def info(self, path):
        text = run_checked(self.run_command, [self.qemu_img, "info", "-U", "--output=json", path],
                           environ_update=C_LOCALE)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise NovaliteError("qemu-img info for %s did not print JSON (%s)" % (path, exc)) from None

    def convert(self, source, source_format, target):
        run_checked(self.run_command, [self.qemu_img, "convert", "-U", "-f", source_format, "-O", SNAPSHOT_FORMAT,
                                       source, target], environ_update=C_LOCALE)


def checked_pairs(params):
    """[(instance uuid, image id)] of ``instances`` and ``image_ids``, all checked before anything is touched."""
    image_ids = {validate.uuid(uuid, "image_ids key"): image_id
                 for uuid, image_id in validate.mapping(params["image_ids"], "image_ids").items()}
    pairs = []
    for uuid in batch_uuids(params["instances"]):
        if uuid not in image_ids:
            raise InvalidInput("image_ids has no image id for instance %s (the action plugin sets it)" % uuid)
        pairs.append((uuid, validate.uuid(image_ids[uuid], "image_ids[%s]" % uuid)))
    validate.reject_duplicates([image for _uuid, image in pairs], "image_ids: image id")
    return pairs


def ensure_snapshot(module):
    """``run_module`` entry point of the instance_snapshot module (the host half)."""
    params = module.params
    pairs = checked_pairs(params)
    store = FactsStore(params["facts_path"])
    records = recorded(store.load(), [uuid for uuid, _image in pairs])
    # _ansible_tmpdir: the directory the action plugin made for this task (module.tmpdir would make another)
    staging_dir = getattr(module, "_tmpdir", None)
    if params["cleanup"]:
        return cleanup(store, records, pairs, staging_dir, module.check_mode)
    for record in records:
        check_action(record, SNAPSHOT)
    if staging_dir is None and not module.check_mode:
        raise NovaliteError("instance_snapshot writes the image into the task's temporary directory, which its action "
                            "plugin makes; there is none (no become to an unprivileged user)")
    plans = [SnapshotPlan(record, image_id, params["instances_path"], staging_dir or "")
             for record, (_uuid, image_id) in zip(records, pairs)]
    if module.check_mode:
        return {"changed": bool(plans), "snapshots": [plan.result() for plan in plans]}
    require_libraries()
    tool = QemuImgSnapshot(module.run_command, module.get_bin_path("qemu-img", required=True))
    with libvirt_connection(params["uri"]) as conn:
        take_snapshots(conn, store, plans, tool)
    return {"changed": True, "snapshots": [plan.result() for plan in plans]}


class SnapshotPlan:
    def __init__(self, record, image_id, instances_path, staging_dir):
        self.record = record
        self.image_id = image_id
        self.disk = instance_file(instances_path, record["name"], "disk")
        self.path = staged_path(staging_dir, image_id)
        self.size = self.checksum = self.virtual_size = None
        self.paused = False

    def result(self):
        return {"uuid": self.record["uuid"], "name": self.record["name"], "image_id": self.image_id,
                "path": self.path, "size": self.size, "checksum": self.checksum, "virtual_size": self.virtual_size,
                "disk_format": SNAPSHOT_FORMAT, "paused_for_it": self.paused}


def take_snapshots(conn, store, plans, tool):
    with undo_on_failure() as rollback:
        with rollback.step("recording task_state %s" % IMAGE_SNAPSHOT):
            previous = {plan.record["uuid"]: state_fields(plan.record) for plan in plans}
            update_records(store, {uuid: {"task_state": IMAGE_SNAPSHOT} for uuid in previous})
            rollback.record("put the records back", lambda: update_records(store, previous))
        for plan in plans:
            with rollback.step("snapshot of %s" % plan.record["name"]):
                _convert(conn, plan, tool, rollback)
        with rollback.step("recording task_state %s" % IMAGE_UPLOADING):
            update_records(store, {uuid: {"task_state": IMAGE_UPLOADING} for uuid in previous})


def _convert(conn, plan, tool, rollback):
    name = plan.record["name"]
    domain = find_domain(conn, name)
    if domain is None:
        raise InvalidInput("instance %s has no libvirt domain on this host" % name)
    if not os.path.isfile(plan.disk):
        raise InvalidInput("instance %s has no disk %s" % (name, plan.disk))
    source_format = tool.info(plan.disk).get("format")
    if source_format not in ("qcow2", "raw"):
        raise InvalidInput("instance %s: its disk %s is %s, not qcow2 or raw" % (name, plan.disk, source_format))
    partial = plan.path + ".part"
    rollback.record("remove %s" % plan.path, lambda: remove_quietly(partial, plan.path))
    running = power.condition(domain, name) == power.UP
    if running:  # a consistent disk: QEMU drains and flushes its I/O when the vCPUs stop
        call("pausing %s" % name, domain.suspend)
        plan.paused = True
    try:
        tool.convert(plan.disk, source_format, partial)
    finally:
        if running:
            call("resuming %s" % name, domain.resume)
    os.rename(partial, plan.path)
    plan.size = os.stat(plan.path).st_size
    plan.checksum = md5sum(plan.path)
    plan.virtual_size = tool.info(plan.path).get("virtual-size")


def cleanup(store, records, pairs, staging_dir, check_mode):
    """End the snapshot's task state (also after a failed upload) and remove staged images left in the
    task's temporary directory (the action plugin removes the directory itself too)."""
    paths = [staged_path(staging_dir, image_id) for _uuid, image_id in pairs] if staging_dir else []
    present = [path for path in paths + [p + ".part" for p in paths] if os.path.lexists(path)]
    ending = {record["uuid"]: {"task_state": None} for record in records
              if record.get("task_state") in (IMAGE_SNAPSHOT, IMAGE_UPLOADING)}
    if not check_mode:
        remove_quietly(*present)
        if ending:
            update_records(store, ending)
    return {"changed": bool(present or ending), "removed": present, "snapshots": []}
