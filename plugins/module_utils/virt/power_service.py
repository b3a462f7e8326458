# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance_power module's work: one power action for a batch of this host's instances,
their records and their domains together, as Nova's compute manager did around the driver call
(``stop_instance``, ``start_instance``, ``reboot_instance``, ``pause_instance``, ...).

Order: check every instance (its record allows the action, ``compute/instance_actions.py``; its
domain exists and can get there, ``virt/power.py``) and plan; in check mode report the plan.
Otherwise record the task state, take every domain through its steps (the guests that get the
ACPI power button all wait in the same rounds), record the final vm state, the power state
libvirt reports and no task, then wait for the guests that were started, if asked. A failure
before the final records puts every domain back in the condition it was in and the records back
as they were (common/rollback.py).
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import instance_file
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import undo_on_failure
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_actions import (
    batch_uuids, check_action, describe, find_action, finished, recorded, state_fields, update_records)
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import (
    ERROR, POWER_STATE_NAMES)
from ansible_collections.novalite.compute.plugins.module_utils.virt import power
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    find_domain, libvirt_connection, require_libraries)
from ansible_collections.novalite.compute.plugins.module_utils.virt.guest import parse_network_info
from ansible_collections.novalite.compute.plugins.module_utils.virt.waits import (
    WAIT_KINDS, GuestNotUp, GuestWatch, forget_neighbour, not_up_error, wait_for_all)

STARTING_STEPS = (power.CREATE, power.SOFT_REBOOT, power.HARD_REBOOT)
WAIT_CHOICES = tuple(kind for kind in WAIT_KINDS if kind != "port")


def ensure_power(module):
    """``run_module`` entry point of instance_power."""
    return PowerService(module.params, module.run_command).ensure(module.check_mode, module._diff)


class InstancePower:
    """One instance of the batch: its record, its domain's steps, and the record it will have."""

    def __init__(self, record, item, action):
        self.record = record
        self.item = item
        self.action = action
        self.vm_state = action.final_vm_state(record.get("vm_state"))
        self.final = power.condition_after(item)
        self.power_state = power.PREDICTED_POWER.get(self.final, record.get("power_state"))
        self.reboot = None
        self.changed = bool(item.steps) or action.always or any(
            record.get(field) != value for field, value in
            (("vm_state", self.vm_state), ("task_state", None), ("power_state", self.power_state)))

    @property
    def uuid(self):
        return self.record["uuid"]

    def result(self):
        return {"uuid": self.uuid, "name": self.record["name"], "display_name": self.record.get("display_name"),
                "host": self.record.get("host"), "action": self.action.name, "changed": self.changed, "vm_state": self.vm_state,
                "power_state": self.power_state, "libvirt": self.final, "steps": list(self.item.steps),
                "done": list(self.item.done), "reboot": self.reboot}

    def diff(self):
        record = self.record
        header = "%s (%s)" % (record.get("display_name"), record["name"])
        return {"before_header": header, "after_header": header,
                "before": _state_text(record.get("vm_state"), record.get("power_state"), record.get("task_state"),
                                      self.item.before),
                "after": _state_text(self.vm_state, self.power_state, None, self.final)
                + ("action: %s (%s)\n" % (self.action.name, ", ".join(self.item.steps)) if self.item.steps else "")}


def put_back_records(store, plans, action):
    """The undo of a failed batch: each record as it was, once its domain is back as it was.

    A domain that could not be put back leaves its instance in vm_state error, with the reason
    and the power state libvirt reports, so the record never claims what libvirt does not show.
    """
    changes = {}
    for plan in plans:
        item = plan.item
        now = power.condition(item.domain, item.name)
        if now == item.before:
            changes[plan.uuid] = state_fields(plan.record)
        else:
            changes[plan.uuid] = finished({}, ERROR, power.nova_power_state(item.domain, item.name), fault=(
                "%s failed, and its domain could not be put back %s (libvirt: %s)" % (action.name, item.before, now)))
    update_records(store, changes)


def _state_text(vm_state, power_state, task_state, libvirt_condition):
    return "vm_state: %s\npower_state: %s (%s)\ntask_state: %s\nlibvirt: %s\n" % (
        vm_state, power_state, POWER_STATE_NAMES.get(power_state, "?"), task_state, libvirt_condition)


class PowerService:
    def __init__(self, params, run_command):
        self.params = params
        self.run_command = run_command
        self.action = None

    def ensure(self, check_mode, diff):
        require_libraries()
        params = self.params
        self.action = find_action(params["action"], params["reboot_type"])
        for option in ("shutdown_timeout", "reboot_timeout", "wait_timeout"):
            validate.whole_number(params[option], option)
        store = FactsStore(params["facts_path"])
        records = recorded(store.load(), batch_uuids(params["instances"]))
        for record in records:
            check_action(record, self.action)  # every instance before anything is touched
        with libvirt_connection(params["uri"]) as conn:
            plans = [self._plan(conn, record) for record in records]
            if not check_mode and any(plan.changed for plan in plans):
                self._apply(store, [plan for plan in plans if plan.changed])
                self._wait([plan for plan in plans if plan.changed and plan.final == power.UP])
        result = {"changed": any(plan.changed for plan in plans), "action": self.action.name,
                  "instances": [plan.result() for plan in plans],
                  "records": [dict(plan.record, **self._final_fields(plan)) for plan in plans]}
        if diff:
            result["diff"] = [plan.diff() for plan in plans if plan.changed]
        return result

    def _plan(self, conn, record):
        name = record["name"]
        domain = find_domain(conn, name)
        if domain is None:
            raise InvalidInput("instance %s has no libvirt domain %s on this host" % (describe(record), name),
                               instance=record["uuid"])
        now = power.condition(domain, name)
        if self.action.name == "reboot":
            steps = power.reboot_steps(now, self.params["reboot_type"], describe(record))
        else:
            steps = power.steps_to(now, power.WANTED_CONDITION[self.action.name], describe(record), self.action.name)
        vifs = parse_network_info(record.get("network_info") or [], "instance %s network_info" % name)
        item = power.DomainPower(name, domain, now, steps, instance_file(self.params["instances_path"], name,
                                                                         "libvirt_xml"), vifs)
        return InstancePower(record, item, self.action)

    def _final_fields(self, plan):
        return {"vm_state": plan.vm_state, "power_state": plan.power_state, "task_state": None} if plan.changed else {}

    def _apply(self, store, plans):
        action = self.action
        with undo_on_failure() as rollback:
            with rollback.step("recording task_state %s" % action.task_state):
                update_records(store, {plan.uuid: {"task_state": action.task_state} for plan in plans})
                rollback.record("put the records back", lambda: put_back_records(store, plans, action))
            for plan in plans:
                if plan.item.steps:
                    rollback.record("put %s back %s" % (plan.item.name, plan.item.before),
                                    lambda item=plan.item: power.restore(item))
            self._take_steps(plans, rollback)
            with rollback.step("recording the final states"):
                for plan in plans:
                    plan.power_state = power.nova_power_state(plan.item.domain, plan.item.name)
                    plan.final = power.condition(plan.item.domain, plan.item.name)
                update_records(store, {plan.uuid: finished({}, plan.vm_state, plan.power_state, fault=None)
                                       for plan in plans})

    def _take_steps(self, plans, rollback):
        """Immediate steps first, then the power button for all (and one wait), then the starts."""
        items = [plan.item for plan in plans]
        for item in items:
            for step in item.steps:
                if step not in STARTING_STEPS + power.BUTTON_STEPS:
                    with rollback.step("%s %s" % (step, item.name)):
                        power.immediate(item, step)
        pressed = [item for item in items if any(step in power.BUTTON_STEPS for step in item.steps)]
        if pressed:
            with rollback.step("asking %s to power off (ACPI)" % ", ".join(item.name for item in pressed)):
                power.press_power_button(pressed)
            timeout = self.params["reboot_timeout" if self.action.name == "reboot" else "shutdown_timeout"]
            with rollback.step("waiting for the guests to power off"):
                still_on = power.wait_until_off(pressed, timeout)
            for plan in plans:
                if plan.item in pressed and self.action.name == "reboot":
                    plan.reboot = "hard (no power off within %ss)" % timeout if plan.item in still_on else "soft"
            for item in still_on:
                with rollback.step("destroying %s after %ss" % (item.name, timeout)):
                    power.destroy(item, "destroy after %ss" % timeout)
        for plan in plans:
            if power.HARD_REBOOT in plan.item.steps:
                plan.reboot = "hard"
                with rollback.step("hard reboot of %s: powering off" % plan.item.name):
                    power.hard_power_off(plan.item)
        starting = [plan.item for plan in plans if any(step in STARTING_STEPS for step in plan.item.steps)]
        self._forget_neighbours(starting, rollback)
        for item in starting:
            with rollback.step("starting %s" % item.name):
                power.create(item)

    def _forget_neighbours(self, items, rollback):
        """A stale neighbour entry would make a restarted guest look up before it is (``ip neigh flush``)."""
        if self.params["wait_for"] != "lease":
            return
        for address in (vif.address for item in items for vif in item.vifs if vif.address):
            with rollback.step("flushing the neighbour entry of %s" % address):
                forget_neighbour(self.run_command, address)

    def _wait(self, plans):
        kind, timeout = self.params["wait_for"], self.params["wait_timeout"]
        if kind == "none" or not plans:
            return
        watch = GuestWatch(kind)
        late = wait_for_all([plan.item for plan in plans], watch, timeout, new_round=watch.new_round)
        if late:
            error = not_up_error(kind, timeout, late)
            raise GuestNotUp("%s is done and recorded, but: %s" % (self.action.name, error.msg), **error.details)
