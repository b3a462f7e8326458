# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt_domain module's work: Nova's ``LibvirtDriver.spawn`` (``to_xml``, ``_create_domain``,
``_wait_for_boot`` in ``nova/virt/libvirt/driver.py``) for a batch of instances, plus their power
states and removal.

Order: check every input, read libvirt once and plan every instance (a plan is what is, what
should be and the actions between them; check mode reports it), then define all, start all,
wait for all, stop or remove; starts and destroys of a batch run at once (threads), and the
guests start paused and are resumed together. Every action is a step of the rollback contract
(``common/rollback.py``): whatever fails (a libvirt call, writing a file, a guest that does not
come up, a bug), what this call did is undone (domains it defined are undefined, previous
definitions restored, guests it started destroyed, files it wrote restored or removed) and the
failure names the step. Stopping and removing are not undone: there is no taking them back.

The comparison is by meaning: libvirt's inactive definition is parsed into the same classes that
build the wanted one (``config.py``), so only what novalite sets is compared, and libvirt's uuid
is kept.
"""

from __future__ import annotations

import os
import uuid as uuid_module

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.files import (
    read_bytes, read_text, remove_quietly, restore_file, write_atomic)
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import (
    create_empty_console_log, remove_instance_dir)
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import apply_together, undo_on_failure
from ansible_collections.novalite.compute.plugins.module_utils.virt.config import GuestConfig
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    ACTIVE_STATES, LibvirtFailed, call, find_domain, find_domain_by_uuid, find_nwfilter, libvirt, libvirt_connection,
    power_state, qemu_log_tail, require_libraries, resolve_virt_type)
from ansible_collections.novalite.compute.plugins.module_utils.virt.guest import (
    HostSettings, build_guest, parse_instances)
from ansible_collections.novalite.compute.plugins.module_utils.virt.waits import (
    GuestNotUp, GuestWatch, forget_neighbour, is_off, not_up_error, wait_for_all)

ABSENT = "absent"
DEFINE, REDEFINE, WRITE_XML = "define", "redefine", "write libvirt.xml"
START, RESUME, SHUTDOWN, DESTROY = "start", "resume", "shutdown", "destroy"
UNDEFINE, REMOVE_DIR = "undefine", "remove instance dir"
AUTOSTART_ON, AUTOSTART_OFF = "autostart on", "autostart off"
FORCED_OFF = "destroy after shutdown timeout"
STATES = ("present", "running", "shutdown", "destroyed", "absent")
DEFINING_STATES = ("present", "running")


def ensure_domains(module):
    """``run_module`` entry point of libvirt_domain."""
    return DomainService(module.params, module.run_command).ensure(module.check_mode, module._diff)


class DomainPlan:
    """One instance: libvirt's domain as it is, the wanted definition, and the actions between them."""

    def __init__(self, spec):
        self.spec = spec
        self.domain = None  # the virDomain, once it exists
        self.current_xml = None  # libvirt's inactive definition before this run
        self.current = None  # ... parsed into GuestConfig
        self.wanted = None
        self.wanted_xml = None  # ... formatted once: compared, written to libvirt.xml, defined, reported
        self.power = ABSENT
        self.autostart = False
        self.actions = []
        self.addresses = []
        self.restart_required = False

    @property
    def uuid(self):
        if self.wanted is not None:
            return self.wanted.uuid
        return self.domain.UUIDString() if self.domain is not None else self.spec.uuid

    def has(self, *actions):
        return any(action in self.actions for action in actions)

    @property
    def final_power(self):
        if self.has(UNDEFINE):
            return ABSENT
        if self.has(START, RESUME):
            return "running"
        if self.has(SHUTDOWN, DESTROY) or (self.has(DEFINE) and self.power == ABSENT):
            return "shutoff"
        return self.power

    @property
    def final_autostart(self):
        if self.final_power == ABSENT or self.has(AUTOSTART_OFF):
            return False
        return self.has(AUTOSTART_ON) or self.autostart


# --- planning ---------------------------------------------------------------------------------

def plan_instance(conn, spec, options, settings):
    plan = DomainPlan(spec)
    _read_current(conn, plan)
    state = options["state"]
    if state in DEFINING_STATES:
        _plan_definition(plan, settings)
    if state == "running":
        _plan_running(plan)
    elif state in ("shutdown", "destroyed") and plan.power in ACTIVE_STATES:
        plan.actions.append(SHUTDOWN if state == "shutdown" else DESTROY)
    elif state == "absent":
        _plan_absent(plan, options)
    if options.get("autostart") is not None and plan.final_power != ABSENT:
        if plan.autostart != options["autostart"]:
            plan.actions.append(AUTOSTART_ON if options["autostart"] else AUTOSTART_OFF)
    return plan


def _read_current(conn, plan):
    spec = plan.spec
    domain = find_domain(conn, spec.name)
    if spec.uuid:
        _check_uuid(conn, spec, domain)
    if domain is None:
        return
    plan.domain = domain
    plan.current_xml = call("reading %s" % spec.name, domain.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)
    plan.current = GuestConfig.parse_str(plan.current_xml)
    plan.power = power_state(domain, spec.name)
    plan.autostart = bool(call("reading autostart of %s" % spec.name, domain.autostart))


def _check_uuid(conn, spec, domain):
    """A name and a uuid always belong together (libvirt refuses to split them; so do we, early)."""
    if domain is not None and domain.UUIDString() != spec.uuid:
        raise InvalidInput("instance %s uuid %s: domain %s already exists with uuid %s"
                           % (spec.name, spec.uuid, spec.name, domain.UUIDString()))
    other = find_domain_by_uuid(conn, spec.uuid) if domain is None else None
    if other is not None:
        raise InvalidInput("instance %s uuid %s: that uuid already belongs to domain %s"
                           % (spec.name, spec.uuid, other.name()))


def _plan_definition(plan, settings):
    uuid = plan.spec.uuid or (plan.current.uuid if plan.current else None) or str(uuid_module.uuid4())
    plan.wanted = build_guest(plan.spec, settings, uuid)
    plan.wanted_xml = plan.wanted.to_xml()
    if plan.current is None:
        plan.actions.append(DEFINE)
    elif plan.current.to_xml() != plan.wanted_xml:
        plan.actions.append(REDEFINE)
        plan.restart_required = plan.power in ACTIVE_STATES
    if read_text(plan.spec.file("libvirt_xml")) != plan.wanted_xml:
        plan.actions.append(WRITE_XML)


def _plan_running(plan):
    if plan.power == "paused":
        plan.actions.append(RESUME)
    elif plan.power not in ACTIVE_STATES:
        plan.actions.append(START)


def _plan_absent(plan, options):
    if plan.power in ACTIVE_STATES:
        plan.actions.append(DESTROY)
    if plan.domain is not None:
        plan.actions.append(UNDEFINE)
    directory = plan.spec.instance_dir
    if options.get("remove_instance_dir") and (os.path.isdir(directory) or os.path.islink(directory)):
        instances_path = os.path.abspath(options["instances_path"])
        if os.path.commonpath([instances_path, directory]) != instances_path or directory == instances_path:
            raise InvalidInput("instance %s instance_dir %s: remove_instance_dir only removes directories "
                               "inside instances_path %s" % (plan.spec.name, directory, instances_path))
        if os.path.islink(directory):
            raise InvalidInput("instance %s instance_dir %s is a symlink, not an instance directory; "
                               "remove_instance_dir never follows one" % (plan.spec.name, directory))
        plan.actions.append(REMOVE_DIR)


def plan_diff(plan):
    """Before/after entries for Ansible's diff mode (a list is shown entry by entry)."""
    entries = []
    if plan.has(DEFINE, REDEFINE, UNDEFINE):
        entries.append({
            "before_header": "%s (libvirt definition)" % plan.spec.name,
            "after_header": "%s (wanted definition)" % plan.spec.name,
            "before": plan.current.to_xml() if plan.current is not None else "",
            "after": plan.wanted_xml if plan.wanted_xml is not None else "",
        })
    if plan.final_power != plan.power or plan.final_autostart != plan.autostart:
        entries.append({
            "before_header": "%s (state)" % plan.spec.name, "after_header": "%s (state)" % plan.spec.name,
            "before": "state: %s\nautostart: %s\n" % (plan.power, plan.autostart),
            "after": "state: %s\nautostart: %s\n" % (plan.final_power, plan.final_autostart),
        })
    return entries


# --- the service ------------------------------------------------------------------------------

class DomainService:
    def __init__(self, options, run_command, sysfs_net="/sys/class/net"):
        self.assume = False
        self.options = options
        self.run_command = run_command
        self.sysfs_net = sysfs_net

    def ensure(self, check_mode, diff):
        require_libraries()
        options = self.options
        _check_options(options)
        defining = options["state"] in DEFINING_STATES
        # check mode of a whole run: what the steps before this one would have made is taken as made
        self.assume = bool(check_mode and options.get("assume_prepared"))
        specs = parse_instances(options["instances"], options["instances_path"], with_definition=defining,
                                assume_files=self.assume)
        with libvirt_connection(options["uri"]) as conn:
            virt_type, reason = resolve_virt_type(options["virt_type"], conn) if defining else (None, None)
            settings = HostSettings(virt_type, options["graphics_listen"], options["disk_cache"])
            plans = [plan_instance(conn, spec, options, settings) for spec in specs]
            self._check_prerequisites(conn, plans)
            if not check_mode:
                self._apply(conn, plans)
        result = {"changed": any(plan.actions for plan in plans), "virt_type": virt_type,
                  "virt_type_reason": reason, "instances": [_instance_result(plan) for plan in plans]}
        if diff:
            result["diff"] = [entry for plan in plans for entry in plan_diff(plan)]
        return result

    def _check_prerequisites(self, conn, plans):
        """What a start needs from other steps of the flow, checked before anything changes."""
        for plan in plans:
            name = plan.spec.name
            if self.options["state"] == "running" and self.options["wait_for"] == "port" \
                    and not any(vif.address for vif in plan.spec.vifs):
                raise InvalidInput("instance %s: wait_for port needs a fixed IP in network_info" % name)
            for vif in plan.spec.vifs if plan.has(START) else ():
                if not os.path.isdir(os.path.join(self.sysfs_net, vif.bridge, "bridge")):
                    self._missing(plan, "bridge %s" % vif.bridge, "instance %s: bridge %s does not exist on this "
                                  "host (nova_network sets it up)" % (name, vif.bridge))
                if find_nwfilter(conn, vif.filter_name(name)) is None:
                    self._missing(plan, "nwfilter %s" % vif.filter_name(name), "instance %s: nwfilter %s is not "
                                  "defined (the nwfilter module defines it from instance_filters)"
                                  % (name, vif.filter_name(name)))

    def _missing(self, plan, what, message):
        """A prerequisite that is not there: refused, or taken as made (check mode with assume_prepared)."""
        if not self.assume:
            raise InvalidInput(message)
        if what not in plan.spec.assumed:
            plan.spec.assumed.append(what)

    def _apply(self, conn, plans):
        options = self.options
        with undo_on_failure() as rollback:
            for plan in plans:
                _define(conn, plan, rollback)
            starting = [plan for plan in plans if plan.has(START)]
            resuming = [plan for plan in plans if plan.has(RESUME)]
            if options["wait_for"] == "lease":
                self._forget_neighbours(starting + resuming, rollback)
            _start_paused(starting, rollback)
            for plan in starting + resuming:
                _resume(plan, rollback)
            if options["state"] == "running" and options["wait_for"] != "none":
                self._wait_until_up(plans, rollback)
            self._shut_down(plans, rollback)
            _remove(plans, rollback)

    def _wait_until_up(self, plans, rollback):
        """Every guest of the call, polled in the same rounds (waits.py); a late one undoes the run."""
        kind, timeout = self.options["wait_for"], self.options["wait_timeout"]
        with rollback.step("waiting for the guests"):
            watch = GuestWatch(kind, self.options.get("wait_port"))
            late = wait_for_all(plans, watch, timeout, new_round=watch.new_round)
            if late:
                raise not_up_error(kind, timeout, late)

    def _forget_neighbours(self, plans, rollback):
        """A stale neighbour entry would make a guest look up before it is (``ip neigh flush``)."""
        for address in (vif.address for plan in plans for vif in plan.spec.vifs if vif.address):
            with rollback.step("flushing the neighbour entry of %s" % address):
                forget_neighbour(self.run_command, address)

    def _shut_down(self, plans, rollback):
        """Nova's clean shutdown: the ACPI power button for each, then wait for all of them together."""
        asked = [plan for plan in plans if plan.has(SHUTDOWN)]
        if not asked:
            return
        for plan in asked:
            what = "shutting down %s" % plan.spec.name
            with rollback.step(what):
                call(what, plan.domain.shutdownFlags, libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)
        with rollback.step("waiting for the guests to power off"):
            still_on = wait_for_all(asked, is_off, self.options["shutdown_timeout"])
            if still_on and not self.options["destroy_after_timeout"]:
                raise GuestNotUp("still running %ss after the ACPI shutdown request: %s (destroy_after_timeout is off)"
                                 % (self.options["shutdown_timeout"], ", ".join(p.spec.name for p in still_on)))
        _destroy_together(still_on, rollback)
        for plan in still_on:
            plan.actions.append(FORCED_OFF)


def _check_options(options):
    validate.ip_address(options["graphics_listen"], "graphics_listen")
    for name in ("wait_timeout", "shutdown_timeout"):
        validate.whole_number(options[name], name)
    if options["wait_for"] == "port":
        validate.port(options.get("wait_port"), "wait_port")


def _instance_result(plan):
    return {
        "name": plan.spec.name,
        "uuid": plan.uuid,
        "state": plan.final_power,
        "autostart": plan.final_autostart,
        "changes": list(plan.actions),
        "definition": plan.wanted_xml,
        "libvirt_xml": plan.spec.file("libvirt_xml") if plan.wanted is not None else None,
        "addresses": plan.addresses,
        "restart_required": plan.restart_required,
        "assumed": list(plan.spec.assumed),
    }


# --- applying: each action a step, its undo recorded ------------------------------------------

def _define(conn, plan, rollback):
    """The instance dir and its files, the definition and autostart, as the plan says."""
    if plan.has(WRITE_XML, DEFINE, REDEFINE):
        _prepare_instance_dir(plan.spec, plan.wanted_xml if plan.has(WRITE_XML) else None, rollback)
    name = plan.spec.name
    if plan.has(DEFINE, REDEFINE):
        with rollback.step("defining %s" % name):
            plan.domain = call("defining %s" % name, conn.defineXML, plan.wanted_xml)
            _record_define_undo(conn, plan, rollback)
    if plan.has(AUTOSTART_ON, AUTOSTART_OFF):
        domain, enabled = plan.domain, plan.has(AUTOSTART_ON)
        with rollback.step("setting autostart of %s" % name):
            call("setting autostart of %s" % name, domain.setAutostart, int(enabled))
            rollback.record("reset autostart of %s" % name,
                            lambda: call("resetting autostart of %s" % name, domain.setAutostart, int(not enabled)))


def _record_define_undo(conn, plan, rollback):
    name, domain, previous = plan.spec.name, plan.domain, plan.current_xml
    if previous is None:
        rollback.record("undefine %s" % name, lambda: call("undefining %s" % name, domain.undefine))
    else:
        rollback.record("restore the definition of %s" % name,
                        lambda: call("restoring the definition of %s" % name, conn.defineXML, previous))


def _prepare_instance_dir(spec, libvirt_xml, rollback):
    """The instance dir, libvirt.xml written atomically (as Nova's to_xml) and an empty console.log."""
    directory = spec.instance_dir
    if not os.path.isdir(directory):
        with rollback.step("creating %s" % directory):
            os.makedirs(directory)
            rollback.record("remove %s" % directory, lambda: os.rmdir(directory))
    if libvirt_xml is not None:
        path = spec.file("libvirt_xml")
        with rollback.step("writing %s" % path):
            previous = read_bytes(path)
            rollback.record("restore %s" % path, lambda: restore_file(path, previous))
            write_atomic(path, libvirt_xml)
    console_log = spec.file("console_log")
    if not os.path.exists(console_log):
        with rollback.step("creating %s" % console_log):
            create_empty_console_log(console_log)
            rollback.record("remove %s" % console_log, lambda: remove_quietly(console_log))


def _start_paused(plans, rollback):
    """Start the domains paused, at once, as Nova's ``_create_guest_with_network`` did while it waited
    for the network: the guests of a batch begin to boot together once all are started, so no
    booting guest takes the CPU from libvirt's filter setup of the next (``_resume``)."""
    apply_together(rollback, plans, lambda plan: "starting %s" % plan.spec.name, _create_paused,
                   undo=lambda plan: ("destroy %s" % plan.spec.name, lambda: _destroy_domain(plan)))


def _create_paused(plan):
    """A failed start carries libvirt's error and QEMU's log."""
    name = plan.spec.name
    try:
        call("starting %s" % name, plan.domain.createWithFlags, libvirt.VIR_DOMAIN_START_PAUSED)
    except LibvirtFailed as exc:
        raise LibvirtFailed("%s\nlast lines of the QEMU log:\n%s" % (exc.msg, qemu_log_tail(name)),
                            instance=name, **exc.details) from exc


def _resume(plan, rollback):
    """Resume a domain; one that was paused before this call is paused again on undo (a domain this
    call started is destroyed instead, by the undo of its start)."""
    name, domain = plan.spec.name, plan.domain
    with rollback.step("resuming %s" % name):
        call("resuming %s" % name, domain.resume)
        if plan.has(RESUME):
            rollback.record("pause %s" % name, lambda: call("pausing %s" % name, domain.suspend))


def _destroy_domain(plan):
    """Destroy; a domain that powered off by itself between the check and the call is fine."""
    try:
        call("destroying %s" % plan.spec.name, plan.domain.destroy)
    except LibvirtFailed as exc:
        if exc.details.get("libvirt_error_code") != libvirt.VIR_ERR_OPERATION_INVALID:
            raise


def _destroy_together(plans, rollback):
    """QEMU takes a second or more to go (libvirt waits for it): the domains go at once."""
    apply_together(rollback, plans, lambda plan: "destroying %s" % plan.spec.name, _destroy_domain)


def _remove(plans, rollback):
    _destroy_together([plan for plan in plans if plan.has(DESTROY)], rollback)
    for plan in plans:
        if plan.has(UNDEFINE):
            what = "undefining %s" % plan.spec.name
            with rollback.step(what):
                flags = libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                call(what, plan.domain.undefineFlags, flags)
        if plan.has(REMOVE_DIR):
            with rollback.step("removing %s" % plan.spec.instance_dir):
                remove_instance_dir(plan.spec.instance_dir)
