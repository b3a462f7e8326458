# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Glance stand-in: image records as Glance v1 keeps them, the catalog file's two forms,
where an image may be read from, and the images a batch of instances uses.

Plain functions and classes without Ansible objects: the controller's request step and the
image_cache module on the hosts call the same ones, so a record the request step accepted is
never refused later on a host.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text

try:
    import yaml
except ImportError:  # JSON catalogs still work on a host without PyYAML
    yaml = None

DISK_FORMATS = ("raw", "qcow2", "aki", "ari", "ami")
# aki/ari/ami are raw bytes (a kernel, a ramdisk, a raw AMI disk); qemu-img must see them as raw.
QEMU_FORMAT = {"raw": "raw", "qcow2": "qcow2", "aki": "raw", "ari": "raw", "ami": "raw"}
CONTAINER_FORMATS = ("bare", "ovf", "aki", "ari", "ami")
STATUSES = ("queued", "saving", "active", "killed", "deleted", "pending_delete")
HASH_ALGORITHMS = {32: "md5", 64: "sha256", 128: "sha512"}  # by hex length of the sum
# What novalite can read at all; which of the remote ones a host accepts is its own choice.
REMOTE_SCHEMES = ("http", "https")
DEFAULT_ALLOWED_SCHEMES = REMOTE_SCHEMES
LOCATION_FORMS = "an absolute path or a file://, http:// or https:// URL"
CATALOG_FORMS = ("a list of image records, or a mapping with the one key 'images' holding that list "
                 "(YAML or JSON)")

_HEX = re.compile(r"[0-9a-fA-F]+")


class ImageRecord:
    """An image's catalog entry; ``origin`` says where it came from, for messages.

    Fields Glance has and novalite does not use (``created_at``, ...) are ignored.
    """

    def __init__(self, record, origin="image"):
        validate.mapping(record, origin)
        self.id = validate.uuid(record.get("id"), origin + " id")
        self.origin = "%s (%s)" % (origin, self.id)
        self.name = validate.one_line(record.get("name"), self._what("name"))
        self.status = validate.choice(record.get("status", "active"), STATUSES, self._what("status"))
        self.disk_format = validate.choice(record.get("disk_format"), DISK_FORMATS, self._what("disk_format"))
        self.container_format = validate.choice(record.get("container_format", "bare"), CONTAINER_FORMATS,
                                                self._what("container_format"))
        self.size = self._count(record, "size")
        self.min_ram = self._count(record, "min_ram") or 0
        self.min_disk = self._count(record, "min_disk") or 0
        self.owner = validate.one_line(record.get("owner"), self._what("owner"))
        self.is_public = validate.flag(record.get("is_public", False), self._what("is_public"))
        self.location = record.get("location")
        if self.location is not None:
            location_parts(self.location, self._what("location"))
        self.checksum_algorithm, self.checksum = _checksum(record, self._what)
        self.properties = _properties(record, self._what)

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

    def _what(self, field):
        return "%s %s" % (self.origin, field)

    def _count(self, record, field):
        value = record.get(field)
        return None if value is None else validate.whole_number(value, self._what(field))


def _checksum(record, what):
    """(algorithm, hex sum): Glance's ``checksum`` (md5, or sha256 by its length) or os_hash_algo/value."""
    algorithm, value = record.get("os_hash_algo"), record.get("os_hash_value")
    if algorithm is None and value is None:
        value = record.get("checksum")
        if value is None:
            return None, None
    if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) not in HASH_ALGORITHMS:
        raise InvalidInput("%s %r: expected 32 (md5), 64 (sha256) or 128 (sha512) hex digits"
                           % (what("checksum"), value), value=value)
    expected = HASH_ALGORITHMS[len(value)]
    if algorithm is not None and algorithm != expected:
        raise InvalidInput("%s %r does not fit a checksum of %d hex digits (%s)"
                           % (what("os_hash_algo"), algorithm, len(value), expected), value=algorithm)
    return expected, value.lower()


def _properties(record, what):
    properties = dict(validate.mapping(record.get("properties") or {}, what("properties")))
    for field in ("kernel_id", "ramdisk_id"):
        if properties.get(field):
            properties[field] = validate.uuid(properties[field], what("properties." + field))
        else:
            properties.pop(field, None)  # "" and None both mean "none"
    return properties


# --- where an image may be read from ---------------------------------------------------------

def location_parts(location, what="location"):
    """(scheme, local path): ``file`` and the path for a local file, else the URL's scheme and None."""
    if isinstance(location, str) and validate.CONTROL_CHARACTERS.search(location) is None:
        if location.startswith("/"):
            return "file", location
        url = urllib.parse.urlsplit(location)
        if url.scheme in REMOTE_SCHEMES and url.netloc:
            return url.scheme, None
        # file://host/... would be another machine's file, and a query or fragment has no meaning
        if url.scheme == "file" and url.netloc in ("", "localhost") and not (url.query or url.fragment):
            path = urllib.parse.unquote(url.path)
            if path.startswith("/") and validate.CONTROL_CHARACTERS.search(path) is None:
                return "file", path
    raise InvalidInput("%s %r: expected %s" % (what, location, LOCATION_FORMS), value=location)


def check_location(location, image_dirs, schemes=DEFAULT_ALLOWED_SCHEMES, what="location"):
    """Where a compute host may read ``location`` from: the resolved path of a local file, or the URL.

    A local file (an absolute path or a ``file://`` URL) only inside one of ``image_dirs`` once
    symlinks and ``..`` are resolved on both sides (``os.path.realpath``): otherwise a catalog
    record could make a host copy one of its own files (``/etc/shadow``, another guest's disk)
    into ``_base`` and boot it as a guest's disk. Any other location only with a scheme in
    ``schemes``. Refusals raise InvalidInput naming ``what`` and the rule.
    """
    scheme, path = location_parts(location, what)
    if scheme != "file":
        if scheme not in schemes:
            raise InvalidInput("%s %r: %s:// is not an allowed scheme here (allowed: %s)"
                               % (what, location, scheme, ", ".join(schemes) or "none"), value=location)
        return location
    resolved = os.path.realpath(path)
    roots = [os.path.realpath(validate.absolute_path(d, "image_dirs[%d]" % i)) for i, d in enumerate(image_dirs)]
    if any(resolved != root and os.path.commonpath([resolved, root]) == root for root in roots):
        return resolved
    if not roots:
        rule = "local image files are refused: no image directory is configured (image_dirs)"
    else:
        rule = "local image files are read only from inside %s" % ", ".join(roots)
    raise InvalidInput("%s %r resolves to %s: %s" % (what, location, resolved, rule), value=location)


# --- the catalog ------------------------------------------------------------------------------

class Catalog:
    def __init__(self, records, origin="images"):
        self.origin = origin
        images = [ImageRecord(record, origin="%s[%d]" % (origin, index))
                  for index, record in enumerate(validate.sequence(records, origin))]
        validate.reject_duplicates([image.id for image in images], "%s: image id" % origin)
        self.images = {image.id: image for image in images}

    def find(self, ref):
        """The image whose id is ``ref``, or else the one image named ``ref``."""
        if ref is None or ref == "":
            raise InvalidInput("%s: an image id or name is needed, got %r" % (self.origin, ref))
        try:
            image = self.images.get(validate.uuid(ref, "image"))
        except InvalidInput:
            image = None  # not a uuid: try it as a name
        if image is not None:
            return image
        named = [image for image in self.images.values() if image.name == ref]
        if len(named) == 1:
            return named[0]
        if named:
            raise InvalidInput("image name %r is ambiguous in %s: ids %s; use an id"
                               % (ref, self.origin, ", ".join(sorted(i.id for i in named))))
        raise InvalidInput("image %r is not in %s (known: %s)"
                           % (ref, self.origin, ", ".join(sorted(i.label() for i in self.images.values()))))


def load_catalog_file(path):
    """A ``Catalog`` from a YAML or JSON file in one of CATALOG_FORMS."""
    try:
        text = read_text(path)
    except OSError as exc:
        raise InvalidInput("catalog %s cannot be read: %s" % (path, exc.strerror or exc), path=path) from None
    if text is None:
        raise InvalidInput("catalog %s cannot be read: no such file" % path, path=path)
    return parse_catalog(text, origin=path)


def parse_catalog(text, origin="catalog"):
    """A ``Catalog`` from the text of a catalog file (JSON when ``origin`` ends in .json, else YAML)."""
    return Catalog(catalog_records(_parse(text, origin), origin), origin=origin)


def catalog_document(text, origin="catalog"):
    """The parsed text of a catalog file (JSON when ``origin`` ends in .json, else YAML), in either form."""
    return _parse(text, origin)


def catalog_records(document, origin="catalog"):
    """The list of records of a parsed catalog document, which must be in one of CATALOG_FORMS."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and list(document) == ["images"] and isinstance(document["images"], list):
        return document["images"]
    raise InvalidInput("catalog %s is not a catalog (it holds %s); expected %s"
                       % (origin, _shape(document), CATALOG_FORMS), path=origin)


def _shape(document):
    if document is None:
        return "nothing"
    if isinstance(document, dict):
        if list(document) == ["images"]:
            return "images: %r" % (document["images"],)
        return "a mapping with the keys %s" % ", ".join(sorted(map(str, document))) if document else "an empty mapping"
    return "%r" % (document,)


def _parse(text, origin):
    if origin.endswith(".json") or yaml is None:
        try:
            return json.loads(text)
        except ValueError as exc:
            hint = "" if yaml is not None else " (PyYAML is not installed, so only JSON is read)"
            raise InvalidInput("catalog %s is not valid JSON: %s%s" % (origin, exc, hint), path=origin) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput("catalog %s is not valid YAML: %s" % (origin, exc), path=origin) from None


# --- the images a batch of instances uses ------------------------------------------------------

ROOT_DISK_FORMATS = ("raw", "qcow2", "ami")


class InstanceImages:
    """One instance's images, resolved in the catalog (kernel/ramdisk None when it has none)."""

    def __init__(self, name, image=None, kernel=None, ramdisk=None, root_gb=0):
        self.name = name
        self.image = image
        self.kernel = kernel
        self.ramdisk = ramdisk
        self.root_gb = root_gb


def checked_entries(value):
    """The ``instances`` entries and their names, each a valid instance name, none twice."""
    entries = validate.sequence(value, "instances")
    names = [validate.instance_name(validate.mapping(e, "instances[%d]" % i).get("name"), "instances[%d].name" % i)
             for i, e in enumerate(entries)]
    validate.reject_duplicates(names, "instance name")
    return entries, names


class ImageUse:
    """The images a batch of ``instances`` entries uses from ``catalog``, checked with image_cache's rules.

    ``instances`` holds an ``InstanceImages`` per entry, ``images`` every image used by id, and
    ``sources`` where each is read from: what ``check_location`` returned for its location under
    ``image_dirs`` and ``schemes``. The ``delivered`` ids are left out of ``sources``: their bytes
    come from the controller and their locations are the controller's, never read here. The
    controller runs this with its own image directories (plugin_utils/image_delivery.py), the
    image_cache module with the host's, so a record one side accepts the other never refuses.
    """

    def __init__(self, entries, catalog, image_dirs, schemes, delivered=()):
        self.image_dirs, self.schemes, self.delivered = image_dirs, schemes, frozenset(delivered)
        self.images, self.sources = {}, {}
        self.instances = [self._resolve(index, entry, catalog) for index, entry in enumerate(entries)]

    def _resolve(self, index, entry, catalog):
        name, what = entry["name"], "instances[%d]" % index
        image = self._usable(catalog, entry.get("image_id"), ROOT_DISK_FORMATS, "image_id", name)
        kernel = self._usable(catalog, _default(entry.get("kernel_id"), image.kernel_id), ("aki",), "kernel_id", name)
        ramdisk = self._usable(catalog, _default(entry.get("ramdisk_id"), image.ramdisk_id), ("ari",),
                               "ramdisk_id", name)
        root_gb = validate.whole_number(entry.get("root_gb") or 0, what + ".root_gb")
        return InstanceImages(name, image, kernel, ramdisk, root_gb)

    def _usable(self, catalog, ref, formats, field, instance):
        if ref is None:
            if field == "image_id":
                raise InvalidInput("instance %s: image_id is required with state=present" % instance)
            return None
        image = catalog.find(ref)
        what = "instance %s: %s %s" % (instance, field, image.label())
        if image.status != "active":
            raise InvalidInput("%s has status %s; only active images are used" % (what, image.status))
        if image.disk_format not in formats:
            raise InvalidInput("%s has disk_format %s; expected %s" % (what, image.disk_format, " or ".join(formats)))
        if not image.location:
            raise InvalidInput("%s has no location to fetch it from" % what)
        self.images[image.id] = image
        if image.id not in self.delivered:
            # Before anything is touched: a location outside what this host allows is never read.
            self.sources[image.id] = check_location(image.location, self.image_dirs, self.schemes,
                                                    "%s location" % what)
        return image


def _default(given, from_image):
    """None takes the image's property; an empty string says "none" explicitly."""
    return from_image if given is None else (given or None)
