# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lifecycle actions on an instance, as Nova's compute api checked and recorded them.

``nova/compute/api.py`` refused an action unless the instance was in one of the vm states the
action allows and had no task in progress (``check_instance_state``), set the action's task
state, and ``nova/compute/manager.py`` set the final vm state and cleared the task state. The
task states are those of ``nova/compute/task_states.py``; the vm states are in
``instance_record.py``.

The same functions run on the controller (the lookup refuses a batch before any host acts)
and on the hosts (each module checks again against what its host recorded), so the two never
disagree about what is allowed.

A *state-like* action (stop, start, pause, suspend) asked of an instance already in its target
state is no change (``changed=false``). Unpause and resume undo a pause or a suspend and are
refused on an instance that is neither. Reboot and rebuild always act, as
``ansible.builtin.reboot`` always reboots.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_FACTS_PATH, DEFAULT_INSTANCES_PATH, DEFAULT_LIBVIRT_URI)
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import (
    ACTIVE, ERROR, PAUSED, STOPPED, SUSPENDED)

# nova/compute/task_states.py (the ones the lifecycle actions set)
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
REBOOTING = "rebooting"
REBOOTING_HARD = "rebooting_hard"
PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"
REBUILDING = "rebuilding"
IMAGE_SNAPSHOT = "image_snapshot"
IMAGE_UPLOADING = "image_uploading"

# nova/compute/vm_states.py ALLOW_SOFT_REBOOT and ALLOW_HARD_REBOOT
ALLOW_SOFT_REBOOT = (ACTIVE,)
ALLOW_HARD_REBOOT = (ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR)
REBOOT_TYPES = ("soft", "hard")


class ActionRefused(InvalidInput):
    """The action is not allowed in the instance's current state; nothing was changed."""


class Action:
    """One lifecycle action: its task state, the vm states it is allowed in and the vm state it leaves.

    ``target`` None means the vm state stays what it was (a snapshot). ``state_like``: asking it of
    an instance already in ``target`` is no change. ``always``: it acts every time (reboot, rebuild).
    """

    def __init__(self, name, task_state, allowed, target=None, state_like=False, always=False):
        self.name = name
        self.task_state = task_state
        self.allowed = allowed
        self.target = target
        self.state_like = state_like
        self.always = always

    def final_vm_state(self, vm_state):
        return self.target if self.target is not None else vm_state


POWER_ACTIONS = {
    # nova/compute/api.py stop: vm_state ACTIVE or ERROR (and RESIZED, which novalite's power actions leave alone)
    "stop": Action("stop", POWERING_OFF, (ACTIVE, ERROR), STOPPED, state_like=True),
    "start": Action("start", POWERING_ON, (STOPPED,), ACTIVE, state_like=True),
    "pause": Action("pause", PAUSING, (ACTIVE,), PAUSED, state_like=True),
    "unpause": Action("unpause", UNPAUSING, (PAUSED,), ACTIVE),
    "suspend": Action("suspend", SUSPENDING, (ACTIVE,), SUSPENDED, state_like=True),
    "resume": Action("resume", RESUMING, (SUSPENDED,), ACTIVE),
    "reboot": Action("reboot", REBOOTING, ALLOW_SOFT_REBOOT, ACTIVE, always=True),
    "reboot_hard": Action("reboot", REBOOTING_HARD, ALLOW_HARD_REBOOT, ACTIVE, always=True),
}
# A rebuilt instance that was stopped stays stopped (Nova's _do_rebuild_instance brings it back
# to its original state): the target is worked out per instance, see rebuilt_vm_state.
REBUILD = Action("rebuild", REBUILDING, (ACTIVE, STOPPED, ERROR), always=True)
SNAPSHOT = Action("snapshot", IMAGE_SNAPSHOT, (ACTIVE, STOPPED, PAUSED, SUSPENDED))
ACTIONS = dict(POWER_ACTIONS, rebuild=REBUILD, snapshot=SNAPSHOT)
ACTION_NAMES = ("stop", "start", "reboot", "pause", "unpause", "suspend", "resume", "rebuild", "snapshot")


def find_action(name, reboot_type="soft"):
    """The Action called ``name`` (``reboot`` with ``reboot_type`` soft or hard)."""
    if name not in ACTION_NAMES:
        raise InvalidInput("unknown action %r (known: %s)" % (name, ", ".join(ACTION_NAMES)), value=name)
    if reboot_type not in REBOOT_TYPES:
        raise InvalidInput("reboot_type %r: expected soft or hard" % (reboot_type,), value=reboot_type)
    if name == "reboot" and reboot_type == "hard":
        return ACTIONS["reboot_hard"]
    return ACTIONS[name]


def describe(record):
    """How messages name an instance: display name, libvirt name and uuid."""
    return "%s (%s, uuid %s)" % (record.get("display_name"), record.get("name"), record.get("uuid"))


def check_action(record, action):
    """True when ``action`` has something to do for ``record``, False when it is already done.

    Raises ActionRefused, naming the instance and its state, when the action is not allowed now:
    its vm state is not one the action allows, or a task is still in progress (or was cut off).
    A hard reboot is allowed whatever the task state, as Nova allowed it to get an instance out
    of a stuck task.
    """
    vm_state, task_state = record.get("vm_state"), record.get("task_state")
    label = "reboot (hard)" if action.task_state == REBOOTING_HARD else action.name
    if task_state is not None and action.task_state != REBOOTING_HARD:
        raise ActionRefused(
            "cannot %s %s: its task_state is %s (another action is in progress, or one was cut off; a hard "
            "reboot or delete_vm.yml clears it)" % (label, describe(record), task_state),
            instance=record.get("uuid"), vm_state=vm_state, task_state=task_state)
    if action.state_like and vm_state == action.target:
        return False
    if vm_state not in action.allowed:
        hint = "; a hard reboot is allowed in %s" % ", ".join(ALLOW_HARD_REBOOT) if label == "reboot" else ""
        raise ActionRefused(
            "cannot %s %s: its vm_state is %s; %s needs vm_state %s%s"
            % (label, describe(record), vm_state, label, " or ".join(action.allowed), hint),
            instance=record.get("uuid"), vm_state=vm_state, task_state=task_state)
    return True


def rebuilt_vm_state(record):
    """A rebuilt instance is active again, except one that was stopped, which stays stopped."""
    return STOPPED if record.get("vm_state") == STOPPED else ACTIVE


def with_task(record, task_state):
    """The record while the action runs (Nova's API set the task state before casting to the host)."""
    return dict(record, task_state=task_state)


def finished(record, vm_state, power_state, **fields):
    """The record once the action is done: its vm state and power state, no task, and ``fields``."""
    done = dict(record, vm_state=vm_state, power_state=power_state, task_state=None, **fields)
    if vm_state != ERROR:
        done.pop("fault", None)
    return done


# --- the host's records of a batch ------------------------------------------------------------

def batch_uuids(instances, what="instances"):
    """The canonical uuids of a module's ``instances`` (records or ``{uuid}``), none twice."""
    uuids = []
    for index, entry in enumerate(validate.sequence(instances, what)):
        entry = validate.mapping(entry, "%s[%d]" % (what, index))
        uuids.append(validate.uuid(entry.get("uuid"), "%s[%d].uuid" % (what, index)))
    validate.reject_duplicates(uuids, "%s: uuid" % what)
    return uuids


def recorded(document, uuids, host=None):
    """The records of ``uuids`` in a facts document, in order; one that is not there is refused."""
    stored = document.get("instances") or {}
    missing = [uuid for uuid in uuids if uuid not in stored]
    if missing:
        raise InvalidInput("instance %s is not recorded on %s" % (", ".join(missing), host or "this host"),
                           instances=missing)
    return [dict(stored[uuid]) for uuid in uuids]


def update_records(store, changes, write=True):
    """Apply ``changes`` ({uuid: fields}) to the records under the facts lock; (before, after) by uuid.

    Only the given fields of the given records change, so another run's records are left as
    they are; a record deleted meanwhile is not brought back.
    """
    with store.transaction(write=write) as facts:
        instances = facts.document["instances"]
        for uuid, fields in changes.items():
            if uuid in instances:
                instances[uuid] = dict(instances[uuid], **fields)
    before = {uuid: facts.before["instances"].get(uuid) for uuid in changes}
    after = {uuid: facts.document["instances"].get(uuid) for uuid in changes}
    return before, after


def state_fields(record):
    """The fields a lifecycle action changes, to put back when it is undone."""
    return {field: record.get(field) for field in ("vm_state", "power_state", "task_state", "fault")}


# The options every lifecycle module has for finding an instance on its host (documented by the
# doc fragment novalite.compute.instance_host).
HOST_OPTIONS = {
    "uri": {"type": "str", "default": DEFAULT_LIBVIRT_URI},
    "instances_path": {"type": "path", "default": DEFAULT_INSTANCES_PATH},
    "facts_path": {"type": "path", "default": DEFAULT_FACTS_PATH},
}
