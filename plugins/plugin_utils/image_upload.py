# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshots into the controller's catalog: the controller's half of instance_snapshot (Glance's
image create and upload, as Nova's ``snapshot`` called them).

- ``snapshot_record``: the catalog record of a snapshot, with Nova's properties
  (``nova/compute/api.py`` ``_create_image`` and ``nova/compute/utils.py``
  ``initialize_instance_snapshot_metadata``): ``image_type`` snapshot, ``instance_uuid``,
  ``base_image_ref``, ``user_id``, ``owner``, and the base image's ``kernel_id`` and
  ``ramdisk_id`` (an AMI-style image boots with them); ``min_disk`` at least the flavor's root
  disk and the base image's ``min_disk``, ``min_ram`` the base image's.
- ``place_image``: the fetched file checked (size and md5) and renamed into the catalog's directory.
- ``CatalogWriter``: the catalog rewritten whole under an exclusive lock (``<catalog>.lock``), through
  a temporary file and a rename (``common/files.py``), so a reader sees the catalog before or
  after a write, never half of one, and two writers at the same moment both land.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import (
    exclusive_lock, read_text, remove_quietly, write_atomic)
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import (
    Catalog, catalog_document, catalog_records)
from ansible_collections.novalite.compute.plugins.module_utils.image.snapshot import md5sum

try:
    import yaml
except ImportError:  # the controller has PyYAML (requirements.txt); JSON catalogs need none
    yaml = None

IMAGE_FILE_MODE = 0o644


def image_file_path(catalog_path, image_id):
    """Where a snapshot's image file lives: beside the catalog, which the location rules always allow."""
    return os.path.join(os.path.dirname(os.path.abspath(catalog_path)), "%s.qcow2" % image_id)


def snapshot_record(record, snapshot, name, catalog_path, base=None, now=None):
    """The catalog record of ``snapshot`` (the host half's result) of instance ``record``."""
    base_min_disk = base.min_disk if base is not None else 0
    properties = {"image_type": "snapshot", "instance_uuid": record["uuid"], "base_image_ref": record.get("image_ref"),
                  "user_id": record.get("user_id"), "owner": record.get("project_id")}
    for field in ("kernel_id", "ramdisk_id"):  # inherited: an AMI-style disk boots with its kernel and ramdisk
        if record.get(field):
            properties[field] = record[field]
    created = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return {"id": snapshot["image_id"], "name": name, "status": "active", "disk_format": snapshot["disk_format"],
            "container_format": "bare", "size": snapshot["size"], "checksum": snapshot["checksum"],
            "min_ram": base.min_ram if base is not None else 0,
            "min_disk": max(record["flavor"].get("root_gb") or 0, base_min_disk), "owner": record.get("project_id"),
            "is_public": False, "created_at": created, "properties": properties,
            "location": "file://" + image_file_path(catalog_path, snapshot["image_id"])}


def place_image(fetched, snapshot, catalog_path):
    """Check the fetched copy against what the host measured, then rename it into place."""
    size = os.stat(fetched).st_size
    if size != snapshot["size"]:
        raise NovaliteError("snapshot %s arrived with %d bytes; the host wrote %d"
                            % (snapshot["image_id"], size, snapshot["size"]))
    checksum = md5sum(fetched)
    if checksum != snapshot["checksum"]:
        raise NovaliteError("snapshot %s arrived with md5 %s; the host's is %s"
                            % (snapshot["image_id"], checksum, snapshot["checksum"]))
    os.chmod(fetched, IMAGE_FILE_MODE)
    target = image_file_path(catalog_path, snapshot["image_id"])
    os.rename(fetched, target)
    return target


def existing_snapshot(catalog, name, instance_uuid):
    """The image named ``name`` if it is a snapshot of this instance (a re-run's), None if there is none;
    a name another image has is refused (a later ``find`` by name would be ambiguous)."""
    named = [image for image in catalog.images.values() if image.name == name]
    for image in named:
        if image.properties.get("instance_uuid") == instance_uuid and image.properties.get("image_type") == "snapshot":
            return image
    if named:
        raise InvalidInput("image name %s is taken in %s by image %s, which is not a snapshot of instance %s"
                           % (name, catalog.origin, named[0].id, instance_uuid), value=name)
    return None


class CatalogWriter:
    """Adds records to a catalog file, whole-file and under its lock."""

    def __init__(self, path, lock_timeout=300.0):
        self.path = os.path.abspath(path)
        self.lock_path = self.path + ".lock"
        self.lock_timeout = lock_timeout

    def add(self, records):
        """Add ``records`` unless an image of the same name and instance is there already; the added ones."""
        with exclusive_lock(self.lock_path, timeout=self.lock_timeout):
            text = read_text(self.path)
            if text is None:
                raise InvalidInput("catalog %s cannot be read: no such file" % self.path, path=self.path)
            document = catalog_document(text, self.path)
            listed = catalog_records(document, self.path)
            current = Catalog(listed, origin=self.path)
            added = [record for record in records
                     if existing_snapshot(current, record["name"], record["properties"]["instance_uuid"]) is None]
            if not added:
                return []
            Catalog(listed + added, origin=self.path)  # every record valid, no id twice: checked before writing
            new_list = listed + added
            write_atomic(self.path, self._dump({"images": new_list} if isinstance(document, dict) else new_list),
                         mode=_mode(self.path))
            return added

    def _dump(self, document):
        # through JSON first: values templated by Ansible are str subclasses that PyYAML's safe dumper refuses
        text = json.dumps(document, indent=2) + "\n"
        if self.path.endswith(".json") or yaml is None:
            return text
        return yaml.safe_dump(json.loads(text), sort_keys=False, default_flow_style=False)


def _mode(path):
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return IMAGE_FILE_MODE


def remove_images(paths):
    """Undo of a failed upload: the image files this run put beside the catalog."""
    remove_quietly(*paths)
