# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt_domain module's work: LibvirtDriver.spawn's to_xml, _create_domain and
_wait_for_boot for a batch of instances, plus their power states and removal.

Order: check every input, read libvirt once and plan every instance, then (unless check mode)
define all, start all, wait for all, stop or remove. A failure while defining, starting or
waiting undoes everything this call did before the error is reported.
"""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.virt.addresses import ip_address
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import find_nwfilter, libvirt_connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain_apply import (
    define_all, destroy, remove_all, request_shutdown, start_all)
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain_builder import HostSettings
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain_plan import (
    DEFINING_STATES, RESUME, SHUTDOWN, START, plan_diff, plan_instance)
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain_waits import (
    GuestNotUp, GuestWatch, is_off, not_up_error, wait_for_all)
from ansible_collections.novalite.compute.plugins.module_utils.virt.guest_network import forget_neighbour
from ansible_collections.novalite.compute.plugins.module_utils.virt.instance_spec import parse_instances
from ansible_collections.novalite.compute.plugins.module_utils.virt.libraries import require_libraries
from ansible_collections.novalite.compute.plugins.module_utils.virt.rollback import Rollback
from ansible_collections.novalite.compute.plugins.module_utils.virt.virt_type import resolve_virt_type

FORCED_OFF = "destroy after shutdown timeout"


def ensure_domains(module):
    """``run_module`` entry point of libvirt_domain."""
    return DomainService(module.params, module.run_command).ensure(module.check_mode, module._diff)


class DomainService:
    def __init__(self, options, run_command, sysfs_net="/sys/class/net"):
        self.options = options
        self.run_command = run_command
        self.sysfs_net = sysfs_net

    def ensure(self, check_mode, diff):
        require_libraries()
        options = self.options
        _check_options(options)
        defining = options["state"] in DEFINING_STATES
        specs = parse_instances(options["instances"], options["instances_path"], with_definition=defining)
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
            if self.options["state"] == "running" and self.options["wait_for"] == "port" \
                    and not any(vif.address for vif in plan.spec.vifs):
                raise InvalidInput("instance %s: wait_for port needs a fixed IP in network_info" % plan.spec.name)
            for vif in plan.spec.vifs if plan.has(START) else ():
                if not os.path.isdir(os.path.join(self.sysfs_net, vif.bridge, "bridge")):
                    raise InvalidInput("instance %s: bridge %s does not exist on this host (nova_network sets it up)"
                                       % (plan.spec.name, vif.bridge))
                filter_name = vif.filter_name(plan.spec.name)
                if find_nwfilter(conn, filter_name) is None:
                    raise InvalidInput("instance %s: nwfilter %s is not defined (the nwfilter module defines it "
                                       "from instance_filters)" % (plan.spec.name, filter_name))

    def _apply(self, conn, plans):
        options = self.options
        rollback = Rollback()
        with rollback.on_failure():
            define_all(conn, plans, rollback)
            starting = [plan for plan in plans if plan.has(START, RESUME)]
            if options["wait_for"] == "lease":
                for vif in (vif for plan in starting for vif in plan.spec.vifs if vif.address):
                    forget_neighbour(self.run_command, vif.address)
            start_all(starting, rollback)
            if options["state"] == "running" and options["wait_for"] != "none":
                watch = GuestWatch(options["wait_for"], options.get("wait_port"))
                late = wait_for_all(plans, watch, options["wait_timeout"], new_round=watch.new_round)
                if late:
                    raise not_up_error(options["wait_for"], options["wait_timeout"], late)
        self._shut_down(plans)
        remove_all(plans)

    def _shut_down(self, plans):
        asked = [plan for plan in plans if plan.has(SHUTDOWN)]
        request_shutdown(asked)
        still_on = wait_for_all(asked, is_off, self.options["shutdown_timeout"])
        if still_on and not self.options["destroy_after_timeout"]:
            raise GuestNotUp("still running %ss after the ACPI shutdown request: %s (destroy_after_timeout is off)"
                             % (self.options["shutdown_timeout"], ", ".join(p.spec.name for p in still_on)))
        for plan in still_on:
            destroy(plan)
            plan.actions.append(FORCED_OFF)


def _check_options(options):
    ip_address(options["graphics_listen"], "graphics_listen")
    for name in ("wait_timeout", "shutdown_timeout"):
        if options[name] < 0:
            raise InvalidInput("%s %r: expected a number of seconds, 0 or more" % (name, options[name]))
    port = options.get("wait_port")
    if options["wait_for"] == "port" and not (isinstance(port, int) and 1 <= port <= 65535):
        raise InvalidInput("wait_port %r: expected a TCP port from 1 to 65535 (wait_for is port)" % port)


def _instance_result(plan):
    return {
        "name": plan.spec.name,
        "uuid": plan.uuid,
        "state": plan.final_power,
        "autostart": plan.final_autostart,
        "changes": list(plan.actions),
        "definition": plan.wanted_xml,
        "libvirt_xml": plan.spec.libvirt_xml_path if plan.wanted is not None else None,
        "addresses": plan.addresses,
        "restart_required": plan.restart_required,
    }
