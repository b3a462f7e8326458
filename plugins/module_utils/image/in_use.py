# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which base files the instances on this host use (the imagecache manager's ``used_images``).

A base is in use when an instance record names its image (``image_ref``, ``kernel_id``,
``ramdisk_id``; every resized copy of a used image counts too, as in Nova), or when a disk
in an instance directory has it as backing file (read from the qcow2 header: qemu-img would
want a lock on the disk of a running guest).
"""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.image.format_sniff import qcow2_backing_file
from ansible_collections.novalite.compute.plugins.module_utils.image.naming import root_base_name


class InstanceImages:
    """What one instance uses: names its users are reported by, and the three image ids."""

    def __init__(self, name, image_id=None, kernel_id=None, ramdisk_id=None):
        self.name = name
        self.image_id = image_id
        self.kernel_id = kernel_id
        self.ramdisk_id = ramdisk_id

    @classmethod
    def from_record(cls, uuid, record):
        """From the instance record of the host facts (DESIGN's contract)."""
        return cls(record.get("name") or uuid, record.get("image_ref"), record.get("kernel_id"),
                   record.get("ramdisk_id"))


class BaseUsers:
    def __init__(self):
        self.by_original = {}  # original base name -> instance names (resized copies share it)
        self.by_backing = {}   # exact base name -> instance directories backed by it

    def add_instance(self, images):
        if images.image_id:
            self._add(self.by_original, root_base_name(str(images.image_id)), images.name)
        for raw_id in (images.kernel_id, images.ramdisk_id):
            if raw_id:
                self._add(self.by_original, str(raw_id), images.name)

    def scan_instance_dirs(self, layout, skip=()):
        """Backing files of the disks in every instance directory but those in ``skip``."""
        for instance in layout.instance_names():
            if instance in skip:
                continue
            directory = os.path.join(layout.instances_path, instance)
            for entry in sorted(os.listdir(directory)):
                backing = qcow2_backing_file(os.path.join(directory, entry)) if entry.startswith("disk") else None
                if backing and os.path.dirname(os.path.normpath(backing)) == layout.base_dir:
                    self._add(self.by_backing, os.path.basename(backing), instance)

    def users(self, name, original):
        """Sorted instance names using base file ``name`` whose original is ``original``."""
        found = set(self.by_backing.get(name, ()))
        found.update(self.by_original.get(original, ()) if original else ())
        return sorted(found)

    @staticmethod
    def _add(index, key, user):
        index.setdefault(key, set()).add(user)
