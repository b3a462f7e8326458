# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The floating_ip module on one compute host: Nova's network manager half of ``allocate_floating_ip``,
``associate_floating_ip``, ``disassociate_floating_ip`` and ``deallocate_floating_ip``.

The controller (``floating_ip_request``) decides under its ledger lock; each host is told, for
its whole batch at once, which addresses it keeps from now on (``allocate``) or no longer
(``release``), and which it binds to the fixed IP of one of its instances (``associate``) or
unbinds (``disassociate``). The host re-checks all of it against its own facts, changes its two
floating sections, refreshes the instances' ``network_info`` (their info cache, as Nova's network
API did after each floating IP change) and makes the host match its whole recorded state: the
rules of every network and association (one iptables-restore per table), the /32s with their
gratuitous ARP, and ``conntrack -D`` for what it unbinds.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_FACTS_PATH, DEFAULT_LOCKS_PATH)
from ansible_collections.novalite.compute.plugins.module_utils.network import floating
from ansible_collections.novalite.compute.plugins.module_utils.network.host_plan import (
    HostPlan, converge_host, host_steps)
from ansible_collections.novalite.compute.plugins.module_utils.network.records import with_floating_ips

FLOATING_IP_SPEC = {
    "allocate": {"type": "list", "elements": "dict", "options": floating.ROW_OPTIONS, "default": []},
    "release": {"type": "list", "elements": "str", "default": []},
    "associate": {"type": "list", "elements": "dict", "options": floating.ASSOCIATION_OPTIONS, "default": []},
    "disassociate": {"type": "list", "elements": "str", "default": []},
    "kept_elsewhere": {"type": "list", "elements": "dict", "options": floating.ROW_OPTIONS, "default": []},
    "facts_path": {"type": "path", "default": DEFAULT_FACTS_PATH},
    "locks_path": {"type": "path", "default": DEFAULT_LOCKS_PATH},
}


class FloatingRequest:
    def __init__(self, params):
        self.change = floating.FloatingChange(params["allocate"], params["release"], params["associate"],
                                              params["disassociate"])
        self.kept_elsewhere = {row["address"]: row for row in (
            floating.checked_row(e, "kept_elsewhere[%d]" % i) for i, e in enumerate(params["kept_elsewhere"]))}
        self.facts_path = validate.absolute_path(params["facts_path"], "facts_path")
        self.locks_path = validate.absolute_path(params["locks_path"], "locks_path")


def ensure_floating_ips(module):
    validate.require_netaddr()
    request = FloatingRequest(module.params)
    result, _plan = converge_host(request.facts_path, lambda document: plan_host_floating_ips(
        request, document, module.run_command, module.get_bin_path), module.check_mode)
    return result


def plan_host_floating_ips(request, document, run_command, find_optional):
    before = floating.floating_by_fixed_ip(document)
    bound, unbound = floating.apply_change(document, request.change, run_command, request.kept_elsewhere)
    after = floating.floating_by_fixed_ip(document)
    touched = {a["instance_uuid"] for a in bound + unbound}
    refresh_info_caches(document, touched, after)
    steps = host_steps(run_command, find_optional, request.locks_path, document, bound, unbound)
    outputs = {"floating_ips": sorted(document[floating.ROWS].values(), key=lambda r: r["address"]),
               "associations": sorted(document[floating.ASSOCIATIONS].values(), key=lambda a: a["address"]),
               "associated": bound, "disassociated": unbound,
               "changed_fixed_ips": sorted(f for f in set(before) | set(after) if before.get(f) != after.get(f))}
    return HostPlan(steps, outputs, lambda d: {
        floating.ROWS: d.get(floating.ROWS) or {},
        floating.ASSOCIATIONS: d.get(floating.ASSOCIATIONS) or {},
        "network_info": _network_infos(d, touched)})


def refresh_info_caches(document, instance_uuids, by_fixed_ip):
    """The instances' network_info with their fixed IPs' floating_ips as they are now."""
    for instance_uuid in instance_uuids:
        record = document.get("instances", {}).get(instance_uuid)
        if record is not None:
            record["network_info"] = with_floating_ips(record.get("network_info"), by_fixed_ip)


def _network_infos(document, instance_uuids):
    return {u: document["instances"][u].get("network_info") for u in sorted(instance_uuids)
            if u in document.get("instances", {})}
