# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where things live under ``instances_path``, named as Nova named them.

``_base/<sha1(image id)>`` root disks, ``_base/<sha1>_<root_gb>`` resized copies (Folsom),
``_base/<kernel or ramdisk id>``; locks ``locks/nova-<base file name>``; one directory per
instance holding ``disk``, ``kernel``, ``ramdisk`` and ``console.log``.
"""

from __future__ import annotations

import hashlib
import os
import re

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput

BASE_DIR_NAME = "_base"
LOCKS_DIR_NAME = "locks"
LOCK_PREFIX = "nova-"
RESERVED_NAMES = (BASE_DIR_NAME, LOCKS_DIR_NAME)
# The files of an instance directory, by the key plans and results use for them.
FILE_NAMES = {"disk": "disk", "kernel": "kernel", "ramdisk": "ramdisk", "console_log": "console.log"}
# Files of a download or conversion in progress (or left by a crash); never used as bases.
TEMPORARY_SUFFIXES = (".part", ".converted", ".resizing")

_ORIGINAL = re.compile(r"^[0-9a-f]{40}$")
_RESIZED = re.compile(r"^([0-9a-f]{40})_([0-9]+)$")
_IMAGE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_INSTANCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


def root_base_name(image_id):
    """``imagecache.get_cache_fname``: the sha1 of the image id."""
    return hashlib.sha1(image_id.encode("utf-8")).hexdigest()


def resized_base_name(image_id, root_gb):
    return "%s_%d" % (root_base_name(image_id), root_gb)


def lock_name(base_name):
    """lockutils' file name for ``synchronized(base_name, external=True)``."""
    return LOCK_PREFIX + base_name.replace(os.sep, "_")


def classify_base_name(name):
    """(kind, original base name) of a file in ``_base``.

    kind is ``original`` (sha1 names and the ids of kernels/ramdisks), ``resized``,
    ``temporary`` or ``unknown``; the lock that guards a file is its original's.
    """
    for suffix in TEMPORARY_SUFFIXES:
        if name.endswith(suffix):
            kind, original = classify_base_name(name[:-len(suffix)])
            return "temporary", original if kind in ("original", "resized") else None
    if _ORIGINAL.match(name) or _IMAGE_ID.match(name):
        return "original", name
    resized = _RESIZED.match(name)
    if resized:
        return "resized", resized.group(1)
    return "unknown", None


def checked_instance_name(name):
    """An instance directory name that stays one safe path component under instances_path."""
    if not isinstance(name, str) or not _INSTANCE_NAME.match(name) or name in RESERVED_NAMES or ".." in name:
        raise InvalidInput("instance name %r is not usable as a directory under instances_path "
                           "(expected e.g. instance-0000000a: letters, digits, '.', '_', '-'; not %s)"
                           % (name, " or ".join(RESERVED_NAMES)))
    return name


class CacheLayout:
    """The paths of one ``instances_path``."""

    def __init__(self, instances_path):
        if not os.path.isabs(instances_path):
            raise InvalidInput("instances_path %r must be an absolute path" % instances_path)
        self.instances_path = os.path.normpath(instances_path)
        self.base_dir = os.path.join(self.instances_path, BASE_DIR_NAME)
        self.locks_dir = os.path.join(self.instances_path, LOCKS_DIR_NAME)

    def base_path(self, base_name):
        return os.path.join(self.base_dir, base_name)

    def lock_path(self, base_name):
        return os.path.join(self.locks_dir, lock_name(base_name))

    def instance_dir(self, name):
        return os.path.join(self.instances_path, checked_instance_name(name))

    def instance_names(self):
        """Names of the instance directories present (everything but ``_base`` and ``locks``)."""
        try:
            entries = os.listdir(self.instances_path)
        except FileNotFoundError:
            return []
        return sorted(e for e in entries if e not in RESERVED_NAMES
                      and os.path.isdir(os.path.join(self.instances_path, e)))


def original_base_name(image):
    """Kernels and ramdisks are cached under their own id, disks under the sha1 of it."""
    return image.id if image.disk_format in ("aki", "ari") else root_base_name(image.id)
