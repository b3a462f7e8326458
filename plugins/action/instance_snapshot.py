# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""instance_snapshot, the controller's half: see plugins/modules/instance_snapshot.py for the docs.

1. The catalog (on the controller) says which snapshots exist already: an image of the asked name
   that is a snapshot of the same instance is a re-run's, and there is nothing to do for it.
2. The module converts the other instances' disks into the task's temporary directory on the host.
3. Each image is fetched over the connection beside the catalog, checked (size, md5) and renamed
   into place; then the catalog is rewritten once for the batch, atomically and under its lock
   (plugin_utils/image_upload.py).
4. The module is called again to end the snapshots' task state, whatever happened; the temporary
   directory goes with the task. A failure removes the image files this run placed.
"""

from __future__ import annotations

import os
import uuid

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import remove_quietly
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import action_result
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import load_catalog_file
from ansible_collections.novalite.compute.plugins.modules.instance_snapshot import ARGUMENT_SPEC
from ansible_collections.novalite.compute.plugins.plugin_utils.image_upload import (
    CatalogWriter, existing_snapshot, image_file_path, place_image, remove_images, snapshot_record)

MODULE = "novalite.compute.instance_snapshot"
CONTROLLER_OPTIONS = ("lock_timeout",)  # image_names and catalog go to the host's half too (its spec needs them)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False  # the temporary directory is made only when there is a snapshot to take
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        try:
            return action_result(result, lambda: self._snapshots(task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _snapshots(self, task_vars):
        _validation, args = self.validate_argument_spec(ARGUMENT_SPEC)
        catalog_path = os.path.abspath(os.path.expanduser(args["catalog"]))
        catalog = load_catalog_file(catalog_path)
        records = [validate.mapping(record, "instances[%d]" % i) for i, record in enumerate(args["instances"])]
        names = {validate.uuid(key, "image_names key"): validate.one_line(value, "image_names[%s]" % key)
                 for key, value in args["image_names"].items()}
        existing, wanted = [], []
        for record in records:
            name = names.get(record.get("uuid"))
            if not name:
                raise NovaliteError("image_names has no image name for instance %s" % record.get("uuid"))
            found = existing_snapshot(catalog, name, record["uuid"])
            (existing if found is not None else wanted).append((record, name, found))
        images = [found.as_dict() for _record, _name, found in existing]
        if not wanted:
            return {"changed": False, "images": images, "catalog": catalog_path, "diff": _diff(catalog, [])}
        image_ids = {record["uuid"]: str(uuid.uuid4()) for record, _name, _found in wanted}
        module_args = {key: value for key, value in args.items() if key not in CONTROLLER_OPTIONS}
        module_args.update(instances=[{"uuid": record["uuid"]} for record, _name, _found in wanted],
                           image_ids=image_ids, cleanup=False)
        if self._task.check_mode:
            planned = self._module(module_args, task_vars)
            new = [{"id": image_ids[record["uuid"]], "name": name, "instance_uuid": record["uuid"]}
                   for record, name, _found in wanted]
            return {"changed": True, "images": images + new, "catalog": catalog_path,
                    "snapshots": planned["snapshots"], "diff": _diff(catalog, [entry["name"] for entry in new])}
        self._make_tmp_path()  # the module writes the images here; it goes when the task ends
        try:
            taken = self._module(module_args, task_vars)
            added = self._upload(taken["snapshots"], wanted, catalog, catalog_path, args["lock_timeout"])
        finally:
            ended = self._execute_module(module_name=MODULE, module_args=dict(module_args, cleanup=True),
                                         task_vars=task_vars)
        if ended.get("failed"):
            raise NovaliteError("the snapshots are in the catalog, but ending their task state failed: %s"
                                % ended.get("msg"), images=[record["id"] for record in added])
        return {"changed": True, "images": images + added, "catalog": catalog_path, "snapshots": taken["snapshots"],
                "diff": _diff(catalog, [record["name"] for record in added])}

    def _module(self, module_args, task_vars):
        result = self._execute_module(module_name=MODULE, module_args=dict(module_args), task_vars=task_vars)
        if result.get("failed"):
            details = {key: value for key, value in result.items() if key not in ("failed", "msg", "invocation")}
            raise NovaliteError(result.get("msg", "instance_snapshot failed on the host"), **details)
        return result

    def _upload(self, snapshots, wanted, catalog, catalog_path, lock_timeout):
        """Fetch, check and place every image, then add them to the catalog in one locked rewrite."""
        by_uuid = {snapshot["uuid"]: snapshot for snapshot in snapshots}
        placed, records = [], []
        try:
            for record, name, _found in wanted:
                snapshot = by_uuid[record["uuid"]]
                partial = os.path.join(os.path.dirname(catalog_path), ".%s.qcow2.part" % snapshot["image_id"])
                placed.append(partial)
                try:
                    self._connection.fetch_file(snapshot["path"], partial)
                except AnsibleError as exc:
                    raise NovaliteError("fetching the snapshot of %s from the host failed: %s" % (record["name"], exc))
                placed.append(place_image(partial, snapshot, catalog_path))
                base = catalog.images.get(record.get("image_ref"))
                records.append(snapshot_record(record, snapshot, name, catalog_path, base=base))
            added = CatalogWriter(catalog_path, lock_timeout).add(records)
        except BaseException:
            remove_images(placed)
            raise
        # a concurrent run of the same snapshot landed first: its images are the ones listed, not ours
        kept = {record["id"] for record in added}
        remove_quietly(*[image_file_path(catalog_path, record["id"]) for record in records if record["id"] not in kept])
        return added


def _diff(catalog, new_names):
    before = sorted(image.name or image.id for image in catalog.images.values())
    return {"before": {"images": before}, "after": {"images": sorted(before + list(new_names))}}
