# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One image as Glance (v1, Grizzly) records it, validated on the way in.

Free of module concerns: the request role imports it on the controller to check
``min_ram``/``min_disk``/``size`` against a flavor.
"""

from __future__ import annotations

import re
import uuid

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput

DISK_FORMATS = ("raw", "qcow2", "aki", "ari", "ami")
# aki/ari/ami are raw bytes (a kernel, a ramdisk, a raw AMI disk); qemu-img must see them as raw.
QEMU_FORMAT = {"raw": "raw", "qcow2": "qcow2", "aki": "raw", "ari": "raw", "ami": "raw"}
CONTAINER_FORMATS = ("bare", "ovf", "aki", "ari", "ami")
STATUSES = ("queued", "saving", "active", "killed", "deleted", "pending_delete")
HASH_ALGORITHMS = {32: "md5", 64: "sha256", 128: "sha512"}  # by hex length of the sum
LOCATION_SCHEMES = ("file://", "http://", "https://")

_HEX = re.compile(r"^[0-9a-fA-F]+$")


def canonical_uuid(value, field, origin):
    """``value`` as Glance writes ids (lowercase, hyphenated), or InvalidInput."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidInput("%s: %s %r is not a uuid (expected e.g. 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9)"
                           % (origin, field, value))


class ImageRecord:
    """An image's catalog entry; ``origin`` says where it came from, for messages."""

    def __init__(self, record, origin="image"):
        if not isinstance(record, dict):
            raise InvalidInput("%s: expected a mapping of image fields, got %r" % (origin, record))
        self.origin = origin
        self.id = canonical_uuid(record.get("id"), "id", origin)
        self.origin = "%s (%s)" % (origin, self.id)
        self.name = _optional_str(record, "name", self.origin)
        self.status = _choice(record, "status", STATUSES, self.origin, default="active")
        self.disk_format = _choice(record, "disk_format", DISK_FORMATS, self.origin)
        self.container_format = _choice(record, "container_format", CONTAINER_FORMATS, self.origin, default="bare")
        self.size = _count(record, "size", self.origin)
        self.min_ram = _count(record, "min_ram", self.origin) or 0
        self.min_disk = _count(record, "min_disk", self.origin) or 0
        self.owner = _optional_str(record, "owner", self.origin)
        self.is_public = _flag(record, "is_public", self.origin)
        self.location = _location(record, self.origin)
        self.checksum_algorithm, self.checksum = _checksum(record, self.origin)
        self.properties = _properties(record, self.origin)

    @property
    def qemu_format(self):
        """What ``qemu-img info`` must report for the image to be accepted."""
        return QEMU_FORMAT[self.disk_format]

    @property
    def kernel_id(self):
        return self.properties.get("kernel_id")

    @property
    def ramdisk_id(self):
        return self.properties.get("ramdisk_id")

    def label(self):
        return "%s (%s)" % (self.id, self.name) if self.name else self.id

    def as_dict(self):
        return {"id": self.id, "name": self.name, "status": self.status, "disk_format": self.disk_format,
                "container_format": self.container_format, "size": self.size, "checksum": self.checksum,
                "checksum_algorithm": self.checksum_algorithm, "min_ram": self.min_ram,
                "min_disk": self.min_disk, "owner": self.owner, "is_public": self.is_public,
                "properties": dict(self.properties), "location": self.location}


def _optional_str(record, field, origin):
    value = record.get(field)
    if value is not None and not isinstance(value, str):
        raise InvalidInput("%s: %s %r must be a string" % (origin, field, value))
    return value


def _choice(record, field, choices, origin, default=None):
    value = record.get(field, default)
    if value not in choices:
        raise InvalidInput("%s: %s %r is not one of %s" % (origin, field, value, ", ".join(choices)))
    return value


def _count(record, field, origin):
    value = record.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("%s: %s %r must be a whole number >= 0" % (origin, field, value))
    return value


def _flag(record, field, origin):
    value = record.get(field, False)
    if not isinstance(value, bool):
        raise InvalidInput("%s: %s %r must be true or false" % (origin, field, value))
    return value


def _location(record, origin):
    location = record.get("location")
    if location is None:
        return None
    if not isinstance(location, str) or not (location.startswith("/") or location.startswith(LOCATION_SCHEMES)):
        raise InvalidInput("%s: location %r must be an absolute path or a file://, http:// or https:// URL"
                           % (origin, location))
    return location


def _checksum(record, origin):
    """(algorithm, hex sum): Glance's ``checksum`` (md5, or sha256 by its length) or os_hash_algo/value."""
    algorithm, value = record.get("os_hash_algo"), record.get("os_hash_value")
    if algorithm is None and value is None:
        value = record.get("checksum")
        if value is None:
            return None, None
    if not isinstance(value, str) or not _HEX.match(value) or len(value) not in HASH_ALGORITHMS:
        raise InvalidInput("%s: checksum %r must be 32 (md5), 64 (sha256) or 128 (sha512) hex digits"
                           % (origin, value))
    expected = HASH_ALGORITHMS[len(value)]
    if algorithm is not None and algorithm != expected:
        raise InvalidInput("%s: os_hash_algo %r does not fit a checksum of %d hex digits (%s)"
                           % (origin, algorithm, len(value), expected))
    return expected, value.lower()


def _properties(record, origin):
    properties = record.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidInput("%s: properties %r must be a mapping" % (origin, properties))
    properties = dict(properties)
    for field in ("kernel_id", "ramdisk_id"):
        if properties.get(field):
            properties[field] = canonical_uuid(properties[field], "properties." + field, origin)
        else:
            properties.pop(field, None)
    return properties
