# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance record: the row Nova kept in its ``instances`` table, kept in host facts.

Its fields are the contract in DESIGN.md: uuid, name, display_name, project_id, user_id, host,
flavor, image_ref, kernel_id, ramdisk_id, vm_state, power_state, launched_at, network_info,
reservation_id, metadata (and a few more Nova also kept).
"""

from __future__ import annotations

# nova/compute/vm_states.py and power_state.py (the ones this collection sets or reads)
BUILDING = "building"
ACTIVE = "active"
ERROR = "error"
DELETED = "deleted"
NOSTATE, RUNNING = 0, 1

RECORD_FIELDS = (
    "uuid", "id", "name", "display_name", "hostname", "project_id", "user_id", "host", "flavor",
    "image_ref", "image_name", "kernel_id", "ramdisk_id", "vm_state", "power_state", "task_state", "launched_at",
    "network_info", "reservation_id", "metadata", "key_data", "security_groups", "network",
    "availability_zone", "config_drive", "created_at", "requested_host",
)


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


def transition(stored, wanted, vm_state, now, network_info=None, fault=None):
    """The record to keep after moving ``wanted`` (over ``stored``, if any) to ``vm_state``.

    A record never goes back from active to building, so re-running a create changes nothing;
    launched_at is set once, when the instance first becomes active.
    """
    record = dict(stored or new_record(**{k: v for k, v in wanted.items() if k in RECORD_FIELDS}))
    if stored and stored.get("vm_state") == ACTIVE and vm_state == BUILDING:
        return record
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
