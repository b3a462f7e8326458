# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``_base`` cache under ``instances_path`` and the instance disks made from it, as Nova's
``nova/virt/libvirt/imagebackend.py`` (``Image.cache``, ``Qcow2``) and
``nova/virt/libvirt/imagecache.py`` (the age-off of unused base files) kept them.

``_base/<sha1(image id)>`` root disks, ``_base/<sha1>_<root_gb>`` resized copies (Folsom),
``_base/<kernel or ramdisk id>``. One external lock per original base file
(``locks/nova-<name>``) guards everything about that image: its download, its resized copies,
the instance files made from them and their removal by the age-off, so one download serves
every instance and fork that asks at the same time.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil

from ansible_collections.novalite.compute.plugins.module_utils.common import instance_dir as instance_dirs
from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import exclusive_lock, remove_quietly
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.image.fetch import (
    BASE_FILE_MODE, fetch_to_raw, qcow2_backing_file)

GIB = 1024 * 1024 * 1024
BASE_DIR_NAME = "_base"
LOCKS_DIR_NAME = "locks"
LOCK_PREFIX = "nova-"
DELIVERED_PREFIX = "novalite-image-"
# Files of a download or conversion in progress (or left by a crash); never used as bases.
TEMPORARY_SUFFIXES = (".part", ".converted", ".resizing")

_ORIGINAL = re.compile(r"[0-9a-f]{40}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RESIZED = re.compile(r"([0-9a-f]{40})_([0-9]+)")


# --- names ------------------------------------------------------------------------------------

def root_base_name(image_id):
    """``imagecache.get_cache_fname``: the sha1 of the image id."""
    return hashlib.sha1(image_id.encode("utf-8")).hexdigest()


def resized_base_name(image_id, root_gb):
    return "%s_%d" % (root_base_name(image_id), root_gb)


def original_base_name(image):
    """Kernels and ramdisks are cached under their own id, disks under the sha1 of it."""
    return image.id if image.disk_format in ("aki", "ari") else root_base_name(image.id)


def disk_base_name(image, virtual_size, root_gb):
    """The base file name of a disk of ``root_gb`` GiB: the original for root_gb 0 or the image's
    own size, else the resized copy (also when the size is not known yet, i.e. None)."""
    if root_gb == 0 or virtual_size == root_gb * GIB:
        return original_base_name(image)
    return resized_base_name(image.id, root_gb)


def delivered_file_name(image_id):
    """The name an image's bytes have in the task's temporary directory when the controller sends
    them (plugins/action/image_cache.py); the host derives it from the id, never from a location."""
    return DELIVERED_PREFIX + image_id


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
    if _ORIGINAL.fullmatch(name):
        return "original", name
    resized = _RESIZED.fullmatch(name)
    if resized:
        return "resized", resized.group(1)
    return "unknown", None


class CacheLayout:
    """The paths of one ``instances_path``."""

    def __init__(self, instances_path):
        self.instances_path = validate.absolute_path(instances_path, "instances_path")
        self.base_dir = os.path.join(self.instances_path, BASE_DIR_NAME)
        self.locks_dir = os.path.join(self.instances_path, LOCKS_DIR_NAME)

    def base_path(self, base_name):
        return os.path.join(self.base_dir, base_name)

    def lock_path(self, base_name):
        return os.path.join(self.locks_dir, lock_name(base_name))

    def instance_dir(self, name):
        return instance_dirs.instance_dir(self.instances_path, name)

    def instance_file(self, name, key):
        return instance_dirs.instance_file(self.instances_path, name, key)

    def instance_names(self):
        """Names of the instance directories present (everything but ``_base`` and ``locks``)."""
        try:
            entries = os.listdir(self.instances_path)
        except FileNotFoundError:
            return []
        return sorted(e for e in entries if e not in validate.RESERVED_INSTANCE_NAMES
                      and os.path.isdir(os.path.join(self.instances_path, e)))


# --- the base cache: Image.cache with its call_if_not_exists under the image's lock ------------

class BaseCache:
    """``sources`` maps an image id to where it is read from (what check_location returned, or
    the copy the controller delivered); ``shown`` to how messages name that, when not the location."""

    def __init__(self, layout, qemu_img, run_command, tools, sources, source_options, lock_timeout=600.0,
                 shown=None):
        self.layout = layout
        self.qemu_img = qemu_img
        self.run_command = run_command
        self.tools = tools
        self.sources = sources
        self.shown = shown or {}
        self.source_options = source_options
        self.lock_timeout = lock_timeout
        self.fetched = []  # base paths this run downloaded, for the report
        self.resized = []  # resized base paths this run made

    def locked(self, image):
        """Hold ``image``'s lock (a ``with`` block)."""
        return self.lock(original_base_name(image))

    def lock(self, original_name):
        """Hold the lock of the original base ``original_name`` (its resized copies share it)."""
        return exclusive_lock(self.layout.lock_path(original_name), timeout=self.lock_timeout)

    def ensure_original(self, image):
        """``call_if_not_exists`` (hold ``locked(image)``): fetch unless the base is there."""
        path = self.layout.base_path(original_base_name(image))
        if not os.path.exists(path):
            source = self.sources.get(image.id)
            if source is None:  # a delivered image when this task has no temporary directory
                raise NovaliteError("image %s is sent by the controller, and its copy did not arrive" % image.label(),
                                    image_id=image.id)
            os.makedirs(self.layout.base_dir, exist_ok=True)
            fetch_to_raw(image, source, path, self.qemu_img, self.source_options, self.shown.get(image.id))
            self.fetched.append(path)
        return path

    def disk_base(self, image, root_gb):
        """(hold ``locked(image)``) The base a disk of ``root_gb`` GiB is backed by, made if missing.

        root_gb 0, or the image's own size, uses the original; larger gets a resized copy
        ``<sha1>_<root_gb>`` (Folsom); smaller is refused, as an image is never shrunk.
        """
        original = self.ensure_original(image)
        virtual_size = os.stat(original).st_size  # bases are raw: their size is the disk's
        check_fits(image, virtual_size, root_gb)
        base = self.layout.base_path(disk_base_name(image, virtual_size, root_gb))
        if base != original and not os.path.exists(base):
            self._make_resized(original, base, root_gb * GIB)
        return base

    def _make_resized(self, original, resized, size_bytes):
        temporary = resized + ".resizing"
        try:
            run_checked(self.run_command, [self.tools["cp"], "--sparse=always", original, temporary])
            self.qemu_img.extend_raw(temporary, size_bytes)
            os.chmod(temporary, BASE_FILE_MODE)
            os.rename(temporary, resized)
            self.resized.append(resized)
        except OSError as exc:
            raise NovaliteError("cannot make resized base %s: %s" % (resized, exc.strerror or exc))
        finally:
            remove_quietly(temporary)


def check_fits(image, virtual_size, root_gb):
    """``verify_base_size``: a flavor disk smaller than the image is refused, never shrunk."""
    if root_gb and virtual_size > root_gb * GIB:
        raise InvalidInput("image %s has a virtual size of %d bytes, larger than root_gb %d (%d bytes); "
                           "an image is never shrunk: use a flavor with a larger root_gb (or 0)"
                           % (image.label(), virtual_size, root_gb, root_gb * GIB),
                           image_id=image.id, virtual_size=virtual_size, root_gb=root_gb)


def touch(path):
    """Mark a base as just used: the age-off measures age from the last use, and re-checks it
    under the same lock, so a base is never removed between a use and its overlay."""
    os.utime(path, None)


# --- instance files: each recorded in the run's Rollback, so a failed run removes them -------
# Each file is made under a temporary name and linked into place, so a file that exists is
# always whole and an existing file is never overwritten, not even by a concurrent run.

def ensure_instance_dir(rollback, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        return
    rollback.record("remove directory " + path, lambda: _remove_if_empty(path))


def create_overlay(rollback, qemu_img, base, target):
    """True when this run made ``target``, False when another run did first."""
    return _create_via_link(rollback, target, lambda temporary: qemu_img.create_overlay(base, temporary))


def copy_raw(rollback, base, target):
    return _create_via_link(rollback, target, lambda temporary: shutil.copyfile(base, temporary))


def create_console_log(rollback, target):
    return _create_via_link(rollback, target, instance_dirs.create_empty_console_log)


def _create_via_link(rollback, target, make):
    temporary = "%s.%d.tmp" % (target, os.getpid())
    try:
        make(temporary)
        try:
            os.link(temporary, target)  # fails with EEXIST instead of replacing a file
        except FileExistsError:
            return False
        rollback.record("remove " + target, lambda: remove_quietly(target))
        return True
    finally:
        remove_quietly(temporary)


def _remove_if_empty(path):
    """Only a directory this run made, and only once it is empty again: another step's files stay."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno != errno.ENOTEMPTY:
            raise


# --- images in use (the imagecache manager's used_images) ------------------------------------

class BaseUsers:
    """Which instances use which base files.

    A base is in use when an instance names its image (every resized copy of a used image
    counts too, as in Nova), or when a disk in an instance directory has it as backing file.
    """

    def __init__(self):
        self.by_original = {}  # original base name -> instance names (resized copies share it)
        self.by_backing = {}   # exact base name -> instance directories backed by it

    def add(self, name, image_id=None, kernel_id=None, ramdisk_id=None):
        if image_id:
            self._add(self.by_original, root_base_name(str(image_id)), name)
        for raw_id in (kernel_id, ramdisk_id):
            if raw_id:
                self._add(self.by_original, str(raw_id), name)

    def add_record(self, uuid, record):
        """An instance record of the host facts (``image_ref``, ``kernel_id``, ``ramdisk_id``)."""
        self.add(record.get("name") or uuid, record.get("image_ref"), record.get("kernel_id"),
                 record.get("ramdisk_id"))

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


# --- the age-off (verify_base_images): remove base files nobody uses, once old ----------------
# Age is measured from the file's mtime, which a run that makes instance files from a base
# refreshes (Nova did so from Liberty on); every removal re-checks it under the image's lock,
# so a base used between the decision and the removal stays.

class AgeOffDecision:
    def __init__(self, name, path, kind, remove, reason, original=None):
        self.name, self.path, self.kind, self.original = name, path, kind, original
        self.remove, self.reason = remove, reason

    def as_dict(self):
        return {"name": self.name, "path": self.path, "kind": self.kind, "reason": self.reason}


class AgeOffPolicy:
    def __init__(self, original_minimum_age=86400, resized_minimum_age=3600):
        # Temporary files are a crash's leftovers (a live download holds the lock): resized age.
        self.minimum_age = {"original": original_minimum_age, "resized": resized_minimum_age,
                            "temporary": resized_minimum_age}

    def decide(self, layout, users, now):
        """One ``AgeOffDecision`` per file in ``_base``, sorted by name."""
        try:
            names = sorted(os.listdir(layout.base_dir))
        except FileNotFoundError:
            return []
        return [self._decide_one(layout.base_path(name), name, users, now) for name in names]

    def still_removable(self, decision, now):
        """Re-check under the lock: the file is there and was not used since the decision."""
        try:
            age = now - os.stat(decision.path).st_mtime
        except FileNotFoundError:
            return False
        return age >= self.minimum_age[decision.kind]

    def _decide_one(self, path, name, users, now):
        kind, original = classify_base_name(name)
        if kind == "unknown" or original is None or not os.path.isfile(path) or os.path.islink(path):
            return AgeOffDecision(name, path, "unknown", False, "not a file the image cache makes; left alone")
        in_use_by = users.users(name, original)
        if in_use_by and kind != "temporary":
            return AgeOffDecision(name, path, kind, False, "in use by %s" % ", ".join(in_use_by), original)
        age = int(now - os.stat(path).st_mtime)
        minimum = self.minimum_age[kind]
        if age < minimum:
            return AgeOffDecision(name, path, kind, False, "unused for %d s, younger than %d s" % (age, minimum),
                                  original)
        return AgeOffDecision(name, path, kind, True, "unused for %d s (minimum age %d s)" % (age, minimum),
                              original)


def age_off_report(decisions):
    return {"kept": [d.as_dict() for d in decisions if not d.remove],
            "removed": [d.as_dict() for d in decisions if d.remove]}
