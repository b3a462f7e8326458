# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance record: the row Nova kept in its ``instances`` table, kept in host facts.

Its fields are RECORD_FIELDS (Nova's ``nova/db/sqlalchemy/models.py`` ``Instance`` columns
that this collection uses); the request step makes it, the ``instance_record`` module stores
it in the host's facts document (section ``instances``, by uuid) and moves it through Nova's
vm states (``nova/compute/vm_states.py``), as ``nova/compute/manager.py`` did around
``_run_instance`` and ``_shutdown_instance``. A resize or migration (``compute/resize.py``) moves a
record between hosts whole (``replace``) and keeps it in vm_state ``resized``, with ``old_flavor`` and
``old_host``, until it is confirmed or reverted.
"""

from __future__ import annotations

import datetime

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore, as_local_facts
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import undo_on_failure

# nova/compute/vm_states.py and power_state.py (the ones this collection sets or reads)
BUILDING = "building"
ACTIVE = "active"
ERROR = "error"
RESIZED = "resized"  # a resize or cold migration that awaits confirm or revert (Nova's RESIZED)
DELETED = "deleted"
STOPPED = "stopped"
PAUSED = "paused"
SUSPENDED = "suspended"
NOSTATE, RUNNING = 0, 1
POWER_PAUSED, SHUTDOWN, CRASHED, POWER_SUSPENDED, POWER_BUILDING = 3, 4, 6, 7, 9
# nova/compute/power_state.py STATE_MAP: the names of the power states
POWER_STATE_NAMES = {NOSTATE: "pending", RUNNING: "running", POWER_PAUSED: "paused", SHUTDOWN: "shutdown",
                     CRASHED: "crashed", POWER_SUSPENDED: "suspended", POWER_BUILDING: "building"}
VM_STATES = (BUILDING, ACTIVE, ERROR, RESIZED)
LIFECYCLE_VM_STATES = (STOPPED, PAUSED, SUSPENDED)  # the vm states the lifecycle actions move instances to
ABSENT = "absent"  # the instance_record module's state for "no record"

RECORD_FIELDS = (
    "uuid", "id", "name", "display_name", "hostname", "project_id", "user_id", "host", "flavor",
    "image_ref", "image_name", "kernel_id", "ramdisk_id", "vm_state", "power_state", "task_state", "launched_at",
    "network_info", "reservation_id", "metadata", "key_data", "security_groups", "network",
    "availability_zone", "config_drive", "created_at", "requested_host",
    "server_group", "server_group_policy",  # the server group the instance was created in, and its policy
)
# Kept only while vm_state is resized: the flavor and host before the resize (Nova's old_flavor).
RESIZE_FIELDS = ("old_flavor", "old_host")


def new_record(**fields):
    record = dict.fromkeys(RECORD_FIELDS)
    record.update(network_info=[], metadata={}, security_groups=["default"])
    unknown = set(fields) - set(RECORD_FIELDS)
    if unknown:
        raise ValueError("not instance record fields: %s" % ", ".join(sorted(unknown)))
    record.update(fields)
    return record


def live_records(records):
    """The records whose instance still counts (every vm_state but deleted), as Nova's usage did."""
    return [record for record in records if record.get("vm_state") != DELETED]


def records_of(documents):
    """Every instance record in a mapping of {host: facts document}."""
    return [record for document in documents.values()
            for record in ((document or {}).get("instances") or {}).values()]


def record_in_state(stored, wanted, vm_state, now, network_info=None, fault=None):
    """The record to keep after moving ``wanted`` (over ``stored``, if any) to ``vm_state``.

    A record never goes back from active to building, so re-running a create changes nothing;
    launched_at is set once, when the instance first becomes active.
    """
    record = dict(stored or new_record(**{k: v for k, v in wanted.items() if k in RECORD_FIELDS}))
    if stored and stored.get("vm_state") == ACTIVE and vm_state == BUILDING:
        return record
    if stored and stored.get("vm_state") == RESIZED and vm_state in (BUILDING, ACTIVE):
        return record  # only a confirm or a revert (replace) ends a resize; a create re-run leaves it

    record["vm_state"] = vm_state
    if network_info is not None:
        record["network_info"] = network_info
    if vm_state == BUILDING:
        record.update(task_state=record.get("task_state") or "spawning", host=wanted.get("host") or record.get("host"))
    elif vm_state == ACTIVE:
        record.update(power_state=RUNNING, task_state=None, launched_at=record.get("launched_at") or now)
        record.pop("fault", None)
    elif vm_state == ERROR:
        record.update(task_state=None, fault=fault)
    return record


# --- the instance_record module --------------------------------------------------------------

def checked_records(params):
    """The batch with canonical uuids, after checking every record; nothing is touched before."""
    vm_state = params["vm_state"]
    if vm_state == BUILDING and not params["host"]:
        raise InvalidInput("host is required with vm_state=building")
    if params.get("replace") and (vm_state == ABSENT or not params["host"]):
        raise InvalidInput("replace stores whole records: it needs host and a vm_state other than absent")
    wanted = []
    for index, record in enumerate(params["instances"]):
        what = "instances[%d]" % index
        if not record.get("uuid"):
            raise InvalidInput("%s has no uuid" % what)
        record = dict(record, uuid=validate.uuid(record["uuid"], what + ".uuid"))
        if vm_state == BUILDING or params.get("replace"):
            _check_whole_record(record, what)
        wanted.append(record)
    return wanted


def _check_whole_record(record, what):
    """A building record is stored as it is: it must be whole and its names usable on this host."""
    if not (record.get("name") and record.get("flavor")):
        raise InvalidInput("%s (%s): a building record needs the whole record (name, flavor, ...)"
                           % (what, record["uuid"]))
    validate.instance_name(record["name"], what + ".name")
    if record.get("display_name") is not None:
        validate.display_name(record["display_name"], what + ".display_name")


def ensure_records(module):
    """Move the batch to ``vm_state`` (or remove it) in the facts document, under its lock."""
    params = module.params
    wanted = checked_records(params)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with undo_on_failure() as rollback:
        # one atomic replace of the facts document: it is written whole or not at all
        with rollback.step("write instance records to %s" % params["facts_path"]):
            with FactsStore(params["facts_path"]).transaction(write=not module.check_mode) as facts:
                _store(facts.document["instances"], wanted, params, now,
                       assume_recorded=module.check_mode and params.get("assume_prepared"))
    uuids = [record["uuid"] for record in wanted]
    before = {u: facts.before["instances"][u] for u in uuids if u in facts.before["instances"]}
    after = {u: facts.document["instances"][u] for u in uuids if u in facts.document["instances"]}
    result = {"changed": facts.changed, "instances": list(after.values()), "diff": {"before": before, "after": after}}
    if params.get("local_facts"):
        # what a setup call right after this one would read: check mode wrote nothing
        result["ansible_facts"] = as_local_facts(facts.before if module.check_mode else facts.document)
    return result


def _store(stored, wanted, params, now, assume_recorded=False):
    """``assume_recorded`` (check mode of a whole run): an instance not recorded yet is taken as
    recorded by the building call before, which recorded nothing in check mode."""
    vm_state = params["vm_state"]
    for index, record in enumerate(wanted):
        uuid = record["uuid"]
        if vm_state == ABSENT:
            stored.pop(uuid, None)
            continue
        if params.get("replace"):
            stored[uuid] = replaced_record(record, vm_state, params["host"], params["network_info"].get(uuid))
            continue
        if uuid not in stored and vm_state != BUILDING:
            if not assume_recorded:
                raise InvalidInput("instance %s is not recorded on this host" % uuid)
            _check_whole_record(record, "instances[%d]" % index)
            stored[uuid] = record_in_state(None, dict(record, host=params["host"] or record.get("host")),
                                           BUILDING, now)
        stored[uuid] = record_in_state(stored.get(uuid), dict(record, host=params["host"]), vm_state, now,
                                       network_info=params["network_info"].get(uuid), fault=params["fault"])


def replaced_record(record, vm_state, host, network_info=None):
    """``record`` as given, whole, in ``vm_state`` on ``host`` (a migration's move, a confirm or a revert).

    Every field given is kept (also those of other features), except that old_flavor and old_host
    stay only in vm_state resized and a fault only in vm_state error.
    """
    kept = dict(dict.fromkeys(RECORD_FIELDS), **record)
    kept.update(vm_state=vm_state, host=host)
    if network_info is not None:
        kept["network_info"] = network_info
    for field in RESIZE_FIELDS if vm_state != RESIZED else ():
        kept.pop(field, None)
    if vm_state != ERROR:
        kept.pop("fault", None)
    return kept
