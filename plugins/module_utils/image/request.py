# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image_cache module's input, checked whole before anything is touched."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.image.age_off import AgeOffPolicy
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import Catalog, load_catalog_file
from ansible_collections.novalite.compute.plugins.module_utils.image.naming import CacheLayout, checked_instance_name

ROOT_DISK_FORMATS = ("raw", "qcow2", "ami")


class InstanceRequest:
    """One instance's images, resolved in the catalog (kernel/ramdisk None when it has none)."""

    def __init__(self, name, image=None, kernel=None, ramdisk=None, root_gb=0):
        self.name = name
        self.image = image
        self.kernel = kernel
        self.ramdisk = ramdisk
        self.root_gb = root_gb


class RunRequest:
    def __init__(self, params, load_catalog=load_catalog_file):
        self.layout = CacheLayout(params["instances_path"])
        self.state = params["state"]
        self.cache_cleanup = params["cache_cleanup"]
        self.policy = AgeOffPolicy(_at_least(params, "original_minimum_age", 0),
                                   _at_least(params, "resized_minimum_age", 0))
        self.facts_path = params.get("facts_path")
        self.lock_timeout = _positive(params, "lock_timeout")
        self.download_timeout = _positive(params, "download_timeout")
        self.use_proxy = params["use_proxy"]
        entries = params.get("instances") or []
        _check_unique_names(entries)
        if self.state == "absent":
            self.instances = [InstanceRequest(entry["name"]) for entry in entries]
        else:
            catalog = _catalog(params, load_catalog) if entries else None
            self.instances = [_resolve(entry, catalog) for entry in entries]


def _catalog(params, load_catalog):
    if params.get("catalog"):
        return load_catalog(params["catalog"])
    if params.get("images") is not None:
        return Catalog(params["images"], origin="images")
    raise InvalidInput("state=present with instances needs the image catalog: set catalog (a file) or images (records)")


def _resolve(entry, catalog):
    name = entry["name"]
    image = _usable(catalog, entry.get("image_id"), ROOT_DISK_FORMATS, "image_id", name)
    kernel = _usable(catalog, _default(entry.get("kernel_id"), image.kernel_id), ("aki",), "kernel_id", name)
    ramdisk = _usable(catalog, _default(entry.get("ramdisk_id"), image.ramdisk_id), ("ari",), "ramdisk_id", name)
    root_gb = entry.get("root_gb") or 0
    if root_gb < 0:
        raise InvalidInput("instance %s: root_gb %r must be >= 0 (0 keeps the image's size)" % (name, root_gb))
    return InstanceRequest(name, image, kernel, ramdisk, root_gb)


def _default(given, from_image):
    """None takes the image's property; an empty string says "none" explicitly."""
    return from_image if given is None else (given or None)


def _usable(catalog, ref, formats, field, instance):
    if ref is None:
        if field == "image_id":
            raise InvalidInput("instance %s: image_id is required with state=present" % instance)
        return None
    image = catalog.find(ref)
    if image.status != "active":
        raise InvalidInput("instance %s: %s %s has status %s; only active images are used"
                           % (instance, field, image.label(), image.status))
    if image.disk_format not in formats:
        raise InvalidInput("instance %s: %s %s has disk_format %s; expected %s"
                           % (instance, field, image.label(), image.disk_format, " or ".join(formats)))
    if not image.location:
        raise InvalidInput("instance %s: %s %s has no location to fetch it from" % (instance, field, image.label()))
    return image


def _check_unique_names(entries):
    seen = set()
    for entry in entries:
        name = checked_instance_name(entry.get("name"))
        if name in seen:
            raise InvalidInput("instance %s is listed twice in instances" % name)
        seen.add(name)


def _at_least(params, field, minimum):
    value = params[field]
    if value < minimum:
        raise InvalidInput("%s %r must be >= %d" % (field, value, minimum))
    return value


def _positive(params, field):
    value = params[field]
    if value <= 0:
        raise InvalidInput("%s %r must be > 0 seconds" % (field, value))
    return value
