# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instance records as inventory hosts: names, groups and variables (for plugins/inventory/instances.py)."""

from __future__ import annotations

import re

from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import POWER_STATE_NAMES
from ansible_collections.novalite.compute.plugins.plugin_utils.host_facts import FACTS_KEY

_GROUP_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def group_name(prefix, value):
    return "%s_%s" % (prefix, _GROUP_UNSAFE.sub("_", str(value)))


def fixed_ip(record):
    """The first fixed IP of the first VIF of the record's network_info (Nova's model), or None."""
    for vif in record.get("network_info") or []:
        for subnet in vif.get("network", {}).get("subnets", []):
            for ip in subnet.get("ips", []):
                return ip.get("address")
    return None


def floating_ip(record):
    """The first floating IP of the record's fixed IPs (Nova's model: FixedIP.floating_ips), or None."""
    for vif in record.get("network_info") or []:
        for subnet in vif.get("network", {}).get("subnets", []):
            for ip in subnet.get("ips", []):
                for floating in ip.get("floating_ips") or []:
                    if floating.get("address"):
                        return floating["address"]
    return None


def instance_hosts(facts_by_host, vm_states, use_floating_ip=True):
    """One entry per instance: inventory_name, groups and variables; ``ansible_host`` is its floating
    IP when it has one and ``use_floating_ip`` is set, else its fixed IP."""
    records = []
    for compute_host, facts in sorted(facts_by_host.items()):
        document = ((facts or {}).get("ansible_local") or {}).get(FACTS_KEY) or {}
        for record in (document.get("instances") or {}).values():
            if record.get("vm_state") in vm_states:
                records.append((compute_host, record))
    display_counts = {}
    for _host, record in records:
        display_counts[record["display_name"]] = display_counts.get(record["display_name"], 0) + 1
    return [_entry(host, record, display_counts, use_floating_ip) for host, record in records]


def _entry(compute_host, record, display_counts, use_floating_ip):
    unique = display_counts[record["display_name"]] == 1
    fixed, floating = fixed_ip(record), floating_ip(record)
    address = floating if use_floating_ip and floating else fixed
    variables = {
        "novalite_instance": record,
        "novalite_compute_host": compute_host,
        "novalite_fixed_ip": fixed,
        "novalite_floating_ip": floating,
        "novalite_flavor": record["flavor"]["name"],
        "novalite_project_id": record.get("project_id"),
        "novalite_image": record.get("image_name") or record.get("image_ref"),
        "novalite_vm_state": record.get("vm_state"),
        "novalite_power_state": POWER_STATE_NAMES.get(record.get("power_state"), record.get("power_state")),
        "novalite_task_state": record.get("task_state"),
    }
    if address:
        variables["ansible_host"] = address
    groups = [group_name("compute", compute_host), group_name("flavor", variables["novalite_flavor"]),
              group_name("image", variables["novalite_image"]), group_name("project", record.get("project_id")),
              group_name("vm_state", record.get("vm_state"))]
    if variables["novalite_power_state"] is not None:
        groups.append(group_name("power_state", variables["novalite_power_state"]))
    if record.get("server_group"):
        groups.append(group_name("server_group", record["server_group"]))
    return {
        "inventory_name": record["display_name"] if unique else record["name"],
        "groups": groups,
        "variables": variables,
    }
