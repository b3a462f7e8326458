# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance_rebuild module: the two ends of Nova's rebuild around a new spawn
(``nova/compute/manager.py`` ``rebuild_instance`` and ``_rebuild_default_impl``: destroy the
domain, keep the network, spawn from the image again).

- ``prepared``: record task_state ``rebuilding``; read the user data of the old config drive (a
  rebuild keeps it, as Nova kept ``instance.user_data``; from the drive's Joliet tree, in Python); destroy the domain, keeping its
  definition, its network allocation and its filters; set the old disk, kernel, ramdisk and config
  drive aside in ``<instance dir>/rebuild-aside/`` with the old definition and states. The image
  and spawn steps then make those files again (from the image named in the records) and start the
  domain with the same uuid, name, MAC and fixed IP.
- ``finished``: the set-aside files go; the record gets the new image, vm_state active, the power
  state libvirt reports, no task and a new ``launched_at``.
- ``reverted`` (a later step failed): the new files go, the old ones come back with the old
  definition, the domain is brought back to the condition it was in, and the record as it was;
  what cannot be put back leaves the instance in vm_state error with the reason.
A failure inside ``prepared`` undoes it the same way (common/rollback.py).
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import struct

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text, remove_quietly, write_atomic
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import INSTANCE_FILES, instance_dir
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import undo_on_failure
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_actions import (
    REBUILD, REBUILDING, batch_uuids, check_action, finished, recorded, state_fields, update_records)
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import ACTIVE, ERROR
from ansible_collections.novalite.compute.plugins.module_utils.virt import power
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    call, find_domain, libvirt, libvirt_connection, require_libraries)

ASIDE = "rebuild-aside"
STATE_FILE = "state.json"
DEFINITION_FILE = "definition.xml"
REBUILT_FILES = ("disk", "kernel", "ramdisk", "config_drive")  # the files the image and spawn steps make again
IMAGE_FIELDS = ("image_ref", "image_name", "kernel_id", "ramdisk_id")
USER_DATA_PATH = "openstack/latest/user_data"


def ensure_rebuild(module):
    """``run_module`` entry point of instance_rebuild."""
    params = module.params
    given = {validate.uuid(entry.get("uuid"), "instances[%d].uuid" % index): entry
             for index, entry in enumerate(params["instances"])}
    store = FactsStore(params["facts_path"])
    records = recorded(store.load(), batch_uuids(params["instances"]))
    plans = [RebuildPlan(record, given[record["uuid"]], params["instances_path"]) for record in records]
    for plan in plans:
        validate.uuid(plan.given.get("image_ref"), "instance %s image_ref" % plan.name)
    require_libraries()
    with libvirt_connection(params["uri"]) as conn:
        for plan in plans:
            plan.domain = find_domain(conn, plan.name)
            if plan.domain is None:
                raise InvalidInput("instance %s has no libvirt domain on this host" % plan.name, instance=plan.uuid)
        state = params["state"]
        if state == "prepared":
            return prepare(conn, store, plans, module, params["keep_user_data"])
        if state == "finished":
            return finish(store, plans, module.check_mode)
        return revert(conn, store, plans, module.check_mode)


class RebuildPlan:
    def __init__(self, record, given, instances_path):
        self.record = record
        self.given = given
        self.name = record["name"]
        self.uuid = record["uuid"]
        self.directory = instance_dir(instances_path, self.name)
        self.aside = os.path.join(self.directory, ASIDE)
        self.domain = None
        self.before = None

    def path(self, key):
        return os.path.join(self.directory, INSTANCE_FILES[key])

    def aside_path(self, key):
        return os.path.join(self.aside, INSTANCE_FILES[key])

    @property
    def prepared(self):
        return os.path.isdir(self.aside)

    def saved_state(self):
        return json.loads(read_text(os.path.join(self.aside, STATE_FILE)) or "{}")

    def result(self, **fields):
        return dict({"uuid": self.uuid, "name": self.name, "display_name": self.record.get("display_name"),
                     "host": self.record.get("host")}, **fields)


# --- prepared ------------------------------------------------------------------------------------

def prepare(conn, store, plans, module, keep_user_data):
    to_do = [plan for plan in plans if not (plan.prepared and plan.record.get("task_state") == REBUILDING)]
    for plan in to_do:
        check_action(plan.record, REBUILD)
    user_data = shared_user_data(plans) if keep_user_data else None
    entries = []
    for plan in plans:
        saved = {} if plan in to_do else plan.saved_state()  # a rebuild cut off after this step: as it recorded
        plan.before = saved.get("condition") or power.condition(plan.domain, plan.name)
        entries.append(plan.result(vm_state_before=saved.get("vm_state") or plan.record.get("vm_state"),
                                   libvirt_before=plan.before, image_ref=plan.given.get("image_ref")))
    result = {"changed": bool(to_do), "user_data": user_data, "instances": entries,
              "diff": {"before": {plan.name: plan.record.get("image_ref") for plan in to_do},
                       "after": {plan.name: plan.given.get("image_ref") for plan in to_do}}}
    if module.check_mode or not to_do:
        return result
    with undo_on_failure() as rollback:
        with rollback.step("recording task_state %s" % REBUILDING):
            previous = {plan.uuid: state_fields(plan.record) for plan in to_do}
            update_records(store, {uuid: {"task_state": REBUILDING} for uuid in previous})
            rollback.record("put the records back", lambda: update_records(store, previous))
        for plan in to_do:
            with rollback.step("setting %s aside" % plan.name):
                _set_aside(plan, rollback)
    return result


def _set_aside(plan, rollback):
    item = power.DomainPower(plan.name, plan.domain, plan.before, [])
    definition = call("reading %s" % plan.name, plan.domain.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)
    os.mkdir(plan.aside, 0o700)
    rollback.record("remove %s" % plan.aside, lambda: shutil.rmtree(plan.aside, ignore_errors=True))
    write_atomic(os.path.join(plan.aside, DEFINITION_FILE), definition)
    write_atomic(os.path.join(plan.aside, STATE_FILE), json.dumps(
        {"condition": plan.before, "vm_state": plan.record.get("vm_state"),
         "power_state": plan.record.get("power_state")}))
    rollback.record("put %s back %s" % (plan.name, plan.before), lambda: power.restore(item))
    if plan.before not in (power.OFF, power.SAVED):
        power.destroy(item)
    if power.condition(plan.domain, plan.name) == power.SAVED:
        call("discarding the saved state of %s" % plan.name, plan.domain.managedSaveRemove, 0)
    for key in REBUILT_FILES:
        if os.path.lexists(plan.path(key)):
            os.rename(plan.path(key), plan.aside_path(key))
            rollback.record("put %s back" % plan.path(key),
                            lambda key=key: os.rename(plan.aside_path(key), plan.path(key)))


def shared_user_data(plans):
    """The user data the old config drives carry (one value for the batch: the config drive step takes one)."""
    found = {}
    for plan in plans:
        drive = plan.aside_path("config_drive") if plan.prepared else plan.path("config_drive")
        found[plan.name] = read_user_data(drive) if os.path.isfile(drive) else None
    values = set(found.values())
    if len(values) > 1:
        raise InvalidInput("the config drives of %s carry different user data, and the rebuilt drives of one call get "
                           "one: rebuild them one at a time, or give the user data" % ", ".join(sorted(found)))
    return values.pop() if values else None


def read_user_data(drive):
    """``openstack/latest/user_data`` of a config drive, or None when it has none.

    Read from the volume's Joliet tree (the config drive step makes it with ``-J``, with genisoimage or
    xorriso alike), in Python, so no ISO tool is needed on the host.
    """
    try:
        with open(drive, "rb") as volume:
            data = joliet_file(volume, USER_DATA_PATH)
    except (OSError, ValueError, struct.error) as exc:
        raise NovaliteError("cannot read the user data of the config drive %s: %s" % (drive, exc)) from None
    return data.decode("utf-8", "replace") if data is not None else None


SECTOR = 2048
JOLIET_ESCAPES = (b"%/@", b"%/C", b"%/E")  # UCS-2 levels 1 to 3


def joliet_file(volume, path):
    """The bytes of ``path`` in an ISO 9660 volume's Joliet directory tree, or None when it is not there."""
    extent, size = _joliet_root(volume)
    for part in path.strip("/").split("/"):
        entry = _find_entry(volume, extent, size, part)
        if entry is None:
            return None
        extent, size = entry
    volume.seek(extent * SECTOR)
    return volume.read(size)


def _joliet_root(volume):
    for number in range(16, 64):  # the volume descriptors, until the terminator
        volume.seek(number * SECTOR)
        descriptor = volume.read(SECTOR)
        if descriptor[1:6] != b"CD001":
            raise ValueError("not an ISO 9660 volume")
        if descriptor[0] == 255:
            break
        if descriptor[0] == 2 and descriptor[88:91] in JOLIET_ESCAPES:
            root = descriptor[156:190]
            return struct.unpack("<I", root[2:6])[0], struct.unpack("<I", root[10:14])[0]
    raise ValueError("the volume has no Joliet directory tree")


def _find_entry(volume, extent, size, name):
    volume.seek(extent * SECTOR)
    directory, offset = volume.read(size), 0
    while offset < len(directory):
        length = directory[offset]
        if length == 0:  # records never cross a sector: the rest of this one is padding
            offset = (offset // SECTOR + 1) * SECTOR
            continue
        record = directory[offset:offset + length]
        raw = record[33:33 + record[32]]
        if raw not in (b"\0", b"\1") and raw.decode("utf-16-be", "replace").split(";")[0] == name:
            return struct.unpack("<I", record[2:6])[0], struct.unpack("<I", record[10:14])[0]
        offset += length
    return None


# --- finished and reverted -----------------------------------------------------------------------

def finish(store, plans, check_mode):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    changes, removed = {}, []
    for plan in plans:
        fields = {field: plan.given.get(field) for field in IMAGE_FIELDS}
        if plan.prepared or plan.record.get("task_state") == REBUILDING:
            fields.update(finished({}, ACTIVE, power.nova_power_state(plan.domain, plan.name), fault=None),
                          launched_at=now)
        if any(plan.record.get(field) != value for field, value in fields.items()):
            changes[plan.uuid] = fields
        if plan.prepared:
            removed.append(plan.aside)
    if not check_mode:
        for aside in removed:
            shutil.rmtree(aside)
        if changes:
            update_records(store, changes)
    entries = []
    for plan in plans:
        after = dict(plan.record, **changes.get(plan.uuid, {}))
        entries.append(plan.result(changed=plan.uuid in changes or plan.aside in removed, vm_state=after.get("vm_state"),
                                   power_state=after.get("power_state"), image_ref=after.get("image_ref"),
                                   image_name=after.get("image_name")))
    return {"changed": bool(changes or removed), "instances": entries,
            "diff": {"before": {uuid: {field: plan.record.get(field) for field in fields}
                                for plan in plans for uuid, fields in changes.items() if uuid == plan.uuid},
                     "after": changes}}


def revert(conn, store, plans, check_mode):
    prepared = [plan for plan in plans if plan.prepared]
    stuck = {plan.uuid: {"task_state": None} for plan in plans
             if not plan.prepared and plan.record.get("task_state") == REBUILDING}
    if check_mode:
        return {"changed": bool(prepared or stuck), "instances": [plan.result() for plan in prepared]}
    changes, problems = dict(stuck), []
    for plan in prepared:
        saved = plan.saved_state()
        try:
            _put_back(conn, plan, saved)
            changes[plan.uuid] = {"vm_state": saved.get("vm_state"), "power_state": saved.get("power_state"),
                                  "task_state": None}
        except (NovaliteError, OSError) as exc:  # keep putting the others back; this one is left in error
            problems.append("%s: %s" % (plan.name, getattr(exc, "msg", None) or exc))
            changes[plan.uuid] = finished({}, ERROR, power.nova_power_state(plan.domain, plan.name),
                                          fault="rebuild failed, and putting the instance back failed: %s" % exc)
    if changes:
        update_records(store, changes)
    if problems:
        raise NovaliteError("putting the instances back failed: %s (they are in vm_state error)" % "; ".join(problems))
    return {"changed": bool(changes), "instances": [plan.result(**changes.get(plan.uuid, {})) for plan in plans]}


def _put_back(conn, plan, saved):
    item = power.DomainPower(plan.name, plan.domain, saved.get("condition", power.OFF), [])
    if power.condition(plan.domain, plan.name) not in (power.OFF, power.SAVED):
        power.destroy(item)
    for key in REBUILT_FILES:
        remove_quietly(plan.path(key))
        if os.path.lexists(plan.aside_path(key)):
            os.rename(plan.aside_path(key), plan.path(key))
    definition = read_text(os.path.join(plan.aside, DEFINITION_FILE))
    if definition:
        plan.domain = call("restoring the definition of %s" % plan.name, conn.defineXML, definition)
        item.domain = plan.domain
        write_atomic(plan.path("libvirt_xml"), definition)
    if item.before in (power.UP, power.HELD):
        power.restore(item)
    shutil.rmtree(plan.aside)
