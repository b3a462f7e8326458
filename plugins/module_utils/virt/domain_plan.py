# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What has to change for one instance, computed once and used for check mode and for applying.

The comparison is semantic: libvirt's inactive definition is parsed into the same classes
that build the wanted one, so only what novalite sets is compared, and libvirt's uuid is kept.
"""

from __future__ import annotations

import os
import uuid as uuid_lib

from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    call, find_domain, find_domain_by_uuid, libvirt)
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain_builder import build_guest
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain_config import GuestConfig

# libvirt's virDomainState values (stable ABI), named as the module reports them.
POWER_STATES = {0: "nostate", 1: "running", 2: "blocked", 3: "paused", 4: "shutdown", 5: "shutoff",
                6: "crashed", 7: "pmsuspended"}
ACTIVE_STATES = ("running", "blocked", "paused", "shutdown", "pmsuspended")
ABSENT = "absent"

DEFINE, REDEFINE, WRITE_XML = "define", "redefine", "write libvirt.xml"
START, RESUME, SHUTDOWN, DESTROY = "start", "resume", "shutdown", "destroy"
UNDEFINE, REMOVE_DIR = "undefine", "remove instance dir"
AUTOSTART_ON, AUTOSTART_OFF = "autostart on", "autostart off"
DEFINING_STATES = ("present", "running")


class DomainPlan:
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
    plan.power = power_of(plan)
    plan.autostart = bool(call("reading autostart of %s" % spec.name, domain.autostart))


def power_of(plan):
    """libvirt's power state of the plan's domain, as the module reports it."""
    return POWER_STATES.get(call("reading the state of %s" % plan.spec.name, plan.domain.state)[0], "nostate")


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
    uuid = plan.spec.uuid or (plan.current.uuid if plan.current else None) or str(uuid_lib.uuid4())
    plan.wanted = build_guest(plan.spec, settings, uuid)
    plan.wanted_xml = plan.wanted.to_xml()
    if plan.current is None:
        plan.actions.append(DEFINE)
    elif plan.current.to_xml() != plan.wanted_xml:
        plan.actions.append(REDEFINE)
        plan.restart_required = plan.power in ACTIVE_STATES
    if read_text(plan.spec.libvirt_xml_path) != plan.wanted_xml:
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
    if options.get("remove_instance_dir") and os.path.isdir(plan.spec.instance_dir):
        instances_path = os.path.abspath(options["instances_path"])
        if os.path.commonpath([instances_path, plan.spec.instance_dir]) != instances_path \
                or plan.spec.instance_dir == instances_path:
            raise InvalidInput("instance %s instance_dir %s: remove_instance_dir only removes directories "
                               "inside instances_path %s" % (plan.spec.name, plan.spec.instance_dir, instances_path))
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
