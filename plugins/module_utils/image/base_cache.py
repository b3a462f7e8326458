# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``_base`` cache: ``Image.cache`` with its ``call_if_not_exists`` under an external lock.

One lock per original base file (``locks/nova-<name>``) guards everything about that image:
its download, its resized copies, the instance files made from them, and their removal by
the age-off, so one download serves every instance and fork that asks at the same time.
"""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import exclusive_lock
from ansible_collections.novalite.compute.plugins.module_utils.image.extend import extend_raw
from ansible_collections.novalite.compute.plugins.module_utils.image.fetch import BASE_FILE_MODE, fetch_to_raw
from ansible_collections.novalite.compute.plugins.module_utils.image.naming import original_base_name, resized_base_name

GIB = 1024 * 1024 * 1024


class BaseCache:
    def __init__(self, layout, qemu_img, run_command, tools, lock_timeout=600.0, fetch_timeout=60.0,
                 use_proxy=True):
        self.layout = layout
        self.qemu_img = qemu_img
        self.run_command = run_command
        self.tools = tools
        self.lock_timeout = lock_timeout
        self.fetch_timeout = fetch_timeout
        self.use_proxy = use_proxy
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
        name = original_base_name(image)
        path = self.layout.base_path(name)
        if not os.path.exists(path):
            os.makedirs(self.layout.base_dir, exist_ok=True)
            fetch_to_raw(image, path, self.qemu_img, timeout=self.fetch_timeout, use_proxy=self.use_proxy)
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
            extend_raw(temporary, size_bytes, self.qemu_img, self.run_command, self.tools)
            os.chmod(temporary, BASE_FILE_MODE)
            os.rename(temporary, resized)
            self.resized.append(resized)
        except OSError as exc:
            raise NovaliteError("cannot make resized base %s: %s" % (resized, exc.strerror or exc))
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)


def disk_base_name(image, virtual_size, root_gb):
    """The base file name of a disk of ``root_gb`` GiB: the original for root_gb 0 or the image's
    own size, else the resized copy (also when the size is not known yet, i.e. None)."""
    if root_gb == 0 or virtual_size == root_gb * GIB:
        return original_base_name(image)
    return resized_base_name(image.id, root_gb)


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
