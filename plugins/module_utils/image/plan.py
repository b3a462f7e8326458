# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run must do, worked out once from what is on disk; check mode reports it, a real
run applies it (openstack.cloud's compute-once-then-reuse)."""

from __future__ import annotations

import os
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.image.base_cache import check_fits, disk_base_name
from ansible_collections.novalite.compute.plugins.module_utils.image.format_sniff import qcow2_backing_file
from ansible_collections.novalite.compute.plugins.module_utils.image.in_use import BaseUsers, InstanceImages
from ansible_collections.novalite.compute.plugins.module_utils.image.instance_files import instance_paths
from ansible_collections.novalite.compute.plugins.module_utils.image.naming import FILE_NAMES, original_base_name


class InstancePlan:
    def __init__(self, request, layout):
        self.request = request
        self.paths = instance_paths(layout, request.name)
        self.wanted = [key for key, image in (("disk", True), ("kernel", request.kernel),
                                              ("ramdisk", request.ramdisk), ("console_log", True)) if image]
        self.missing = [key for key in self.wanted if not os.path.lexists(self.paths[key])]
        self.disk_base = self._disk_base(layout)

    def base_of(self, key, layout):
        """The base file ``key`` (kernel/ramdisk) is copied from, or None."""
        image = getattr(self.request, key)
        return layout.base_path(original_base_name(image)) if image else None

    def _disk_base(self, layout):
        image, root_gb = self.request.image, self.request.root_gb
        if "disk" not in self.missing:
            return qcow2_backing_file(self.paths["disk"])
        original = layout.base_path(original_base_name(image))
        size = os.stat(original).st_size if os.path.exists(original) else _raw_size(image)
        if size is not None:
            check_fits(image, size, root_gb)  # refused now, before anything is written
        return layout.base_path(disk_base_name(image, size, root_gb))

    def result(self, layout, created):
        request = self.request
        return dict(
            {key: self.paths[key] if key in self.wanted else None for key in FILE_NAMES},
            instance_dir=self.paths["instance_dir"], image_id=request.image.id,
            kernel_id=request.kernel.id if request.kernel else None,
            ramdisk_id=request.ramdisk.id if request.ramdisk else None, root_gb=request.root_gb,
            base_files={"disk": self.disk_base, "kernel": self.base_of("kernel", layout),
                        "ramdisk": self.base_of("ramdisk", layout)},
            created=sorted(FILE_NAMES[key] for key in created))


def _raw_size(image):
    """A raw image's virtual size is its byte size, known before it is fetched."""
    return image.size if image.qemu_format == "raw" else None


class RunPlan:
    def __init__(self, request, now=None):
        self.request = request
        layout = request.layout
        present = request.state == "present"
        self.instances = [InstancePlan(i, layout) for i in request.instances] if present else []
        self.removals = [] if present else [
            layout.instance_dir(i.name) for i in request.instances if os.path.lexists(layout.instance_dir(i.name))]
        self.fetches = self._fetches(layout)
        self.resizes = sorted({p.disk_base for p in self.instances
                               if "disk" in p.missing and not os.path.exists(p.disk_base)} - set(self.fetch_paths()))
        self.age_off = self._age_off(now if now is not None else time.time())

    @property
    def changed(self):
        return bool(self.fetches or self.resizes or self.removals or any(p.missing for p in self.instances)
                    or any(d.remove for d in self.age_off))

    def fetch_paths(self):
        return [self.request.layout.base_path(name) for name in self.fetches]

    def _fetches(self, layout):
        """{original base name: image} of the bases missing files need and that are not there."""
        needed = {}
        for plan in self.instances:
            for key in plan.missing:
                image = plan.request.image if key == "disk" else getattr(plan.request, key, None)
                if image is not None:
                    needed[original_base_name(image)] = image
        return {name: image for name, image in sorted(needed.items())
                if not os.path.exists(layout.base_path(name))}

    def _age_off(self, now):
        if not self.request.cache_cleanup:
            return []
        users = BaseUsers()
        for instance in self.request.instances if self.request.state == "present" else []:
            users.add_instance(InstanceImages(instance.name, instance.image.id,
                                              instance.kernel and instance.kernel.id,
                                              instance.ramdisk and instance.ramdisk.id))
        removed = set(i.name for i in self.request.instances) if self.request.state == "absent" else set()
        for uuid, record in self._facts_instances():
            if record.get("name") not in removed:
                users.add_instance(InstanceImages.from_record(uuid, record))
        users.scan_instance_dirs(self.request.layout, skip=removed)
        return self.request.policy.decide(self.request.layout, users, now)

    def _facts_instances(self):
        if not self.request.facts_path:
            return []
        instances = FactsStore(self.request.facts_path).load().get("instances") or {}
        return sorted(instances.items()) if isinstance(instances, dict) else []
