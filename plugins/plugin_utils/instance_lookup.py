# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of every lifecycle action: which instances a name means, and whether the action
is allowed for each of them, before any host acts (Nova's compute api ``get`` and
``check_instance_state``; for a rebuild, the image checks of ``API.rebuild``).

The instances are found in every compute host's records (``ansible_local.novalite``), by display
name (the name itself, or ``name-1`` ... ``name-N`` of a batch) or by uuid, in one project. A
batch in which one instance may not do the action is refused whole, naming that instance and
its state, so no host starts on an action another host cannot finish.
"""

from __future__ import annotations

import re

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_actions import (
    check_action, find_action)
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import live_records
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import (
    ROOT_DISK_FORMATS, Catalog, load_catalog_file)
from ansible_collections.novalite.compute.plugins.plugin_utils.host_facts import documents_from_hostvars
from ansible_collections.novalite.compute.plugins.plugin_utils.request import (
    check_image_fits_flavor, check_image_locations, checked_schemes, image_dirs_for)


class UnknownInstance(InvalidInput):
    """No instance has that name (or uuid) in the project."""


def names_match(name):
    """A test of a record: its display name is ``name`` or ``name-N``, or its uuid is ``name``."""
    try:
        wanted_uuid = validate.uuid(name, "name")
    except InvalidInput:
        wanted_uuid = None
    pattern = re.compile(re.escape(name) + r"(-[0-9]+)?")

    def matches(record):
        return record.get("uuid") == wanted_uuid or bool(pattern.fullmatch(record.get("display_name") or ""))
    return matches


def find_instances(documents, name, project_id, missing_ok=False):
    """[(host, record)] of the project's live instances that ``name`` means (display name ``name`` or
    ``name-N``, or uuid ``name``) on any host, sorted by display name. None is an ``UnknownInstance``,
    or ``[]`` when ``missing_ok`` (a confirm may find only a resize's migration record)."""
    validate.display_name(name, "name")
    matches = names_match(name)
    found = []
    for host, document in sorted(documents.items()):
        for record in live_records((document.get("instances") or {}).values()):
            if record.get("project_id") == project_id and matches(record):
                found.append((host, record))
    if not found and not missing_ok:
        raise unknown_instance(documents, name, project_id)
    return sorted(found, key=lambda entry: (entry[1].get("display_name") or "", entry[1]["uuid"]))


def unknown_instance(documents, name, project_id):
    """The refusal of a ``name`` that means no instance of the project on the hosts of ``documents``."""
    return UnknownInstance("no instance named %s (display name %s or %s-N, or that uuid) in project %s on %s"
                           % (name, name, name, project_id, ", ".join(sorted(documents)) or "no compute host"),
                           name=name, project_id=project_id)


def rebuild_images(args, records):
    """{uuid: image} a rebuild recreates each instance's disk from: the image named, or each instance's own,
    checked for every instance as a create checks it (active, a root disk format, min_ram and min_disk, the
    size against the flavor's root disk, and where it and its kernel and ramdisk would be read from)."""
    catalog = load_catalog_file(args["catalog"]) if args.get("catalog") else Catalog(args.get("images") or [])
    image_dirs = image_dirs_for(args.get("catalog"), args.get("image_dirs"))
    schemes = checked_schemes(args.get("image_schemes"))
    chosen = {}
    for record in records:
        image = catalog.find(args.get("image") or record.get("image_ref"))
        if image.disk_format not in ROOT_DISK_FORMATS:
            raise InvalidInput("image %s has disk_format %s; a root disk is one of %s"
                               % (image.label(), image.disk_format, ", ".join(ROOT_DISK_FORMATS)))
        check_image_fits_flavor(image, record["flavor"])
        check_image_locations(catalog, image, image_dirs, schemes)
        chosen[record["uuid"]] = image
    return chosen


def rebuilt_record(record, image):
    """The record with the image fields of ``image`` (Nova's API set image_ref before casting the rebuild)."""
    return dict(record, image_ref=image.id, image_name=image.name, kernel_id=image.kernel_id,
                ramdisk_id=image.ramdisk_id)


def snapshot_names(records, image_name=None):
    """{uuid: image name}: ``image_name`` for one instance, ``image_name-<display name>`` for each of a
    batch, ``<display name>-snapshot`` when no name is given."""
    image_name = validate.one_line(image_name, "image_name") if image_name else None
    names = {}
    for record in records:
        if image_name:
            names[record["uuid"]] = image_name if len(records) == 1 else "%s-%s" % (image_name, record["display_name"])
        else:
            names[record["uuid"]] = "%s-snapshot" % record["display_name"]
    return names


def lookup(args, hostvars):
    """The instance_lookup result: the instances, the hosts they are on, and what the action would do."""
    documents = documents_from_hostvars(hostvars, args["hosts"])
    found = find_instances(documents, args["name"], args["project_id"])
    action = find_action(args["action"], args.get("reboot_type") or "soft") if args.get("action") else None
    to_do = [record["uuid"] for _host, record in found if action is None or check_action(record, action)]
    images = {}
    if action is not None and action.name == "rebuild":
        images = rebuild_images(args, [record for _host, record in found])
        found = [(host, rebuilt_record(record, images[record["uuid"]])) for host, record in found]
    by_host = {}
    for host, record in found:
        by_host.setdefault(host, []).append(record)
    return {
        "changed": False,
        "instances": [record for _host, record in found],
        "by_host": by_host,
        "hosts_used": sorted(by_host),
        "to_do": to_do,
        "unchanged": [record["uuid"] for _host, record in found if record["uuid"] not in to_do],
        "images": {uuid: image.as_dict() for uuid, image in images.items()},
        "snapshot_names": (snapshot_names([record for _host, record in found], args.get("image_name"))
                           if action is not None and action.name == "snapshot" else {}),
    }
