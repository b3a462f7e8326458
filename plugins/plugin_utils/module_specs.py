# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instance records turned into the batch entries each per-host module takes (filter ``specs_for``).

The roles hand a host's instance records to every step; each module wants its own slice of
them. Keeping the mappings here (not in Jinja) keeps them readable and tested. Runs on the
controller only, when a role's task arguments are templated.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import FIELDS as NETWORK_FIELDS


def _vifs(record, network_info):
    """The instance's VIFs from this run's ``network_info``, else those stored in its record."""
    return (network_info or {}).get(record["uuid"], record.get("network_info") or [])


def image_cache_spec(record):
    return {"name": record["name"], "image_id": record["image_ref"], "kernel_id": record.get("kernel_id") or "",
            "ramdisk_id": record.get("ramdisk_id") or "", "root_gb": record["flavor"]["root_gb"]}


def ipam_request(record):
    return {"instance_uuid": record["uuid"], "instance_name": record["name"], "hostname": record["hostname"],
            "host": record["host"], "project_id": record.get("project_id")}


def config_drive_spec(record, network_info=None):
    """The whole record (the config drive carries most of it) with its network info."""
    return dict(record, network_info=_vifs(record, network_info))


def libvirt_domain_spec(record, network_info=None):
    return {"name": record["name"], "uuid": record["uuid"], "display_name": record["display_name"],
            "flavor": record["flavor"], "kernel_id": record.get("kernel_id") or "",
            "ramdisk_id": record.get("ramdisk_id") or "", "config_drive": bool(record.get("config_drive")),
            "network_info": _vifs(record, network_info)}


def release_entry(record):
    """nova_network state=absent reads only the uuid."""
    return {"instance_uuid": record["uuid"]}


def instance_filters(records, network_info=None, fixed_ips=None):
    """nwfilter's instance_filters: one per VIF (nova-instance-<name>-<mac>), with its addressing.

    The VIFs are this run's ``network_info`` for the instance, else its record's. ``fixed_ips``
    (a host's recorded ``fixed_ips`` section, by address) adds the MAC of every fixed IP the
    instance holds there: a removal then also finds the filters of an instance whose record
    never got its network info (a build that failed after the network step).
    """
    held = {}
    for fixed_ip in (fixed_ips or {}).values():
        held.setdefault(fixed_ip.get("instance_uuid"), []).append(fixed_ip.get("mac"))
    entries = []
    for record in records:
        addressing = {vif["address"]: _vif_addressing(vif) for vif in _vifs(record, network_info)}
        macs = list(addressing) + [mac for mac in held.get(record["uuid"], []) if mac and mac not in addressing]
        groups = record.get("security_groups") or ["default"]
        entries += [dict({"instance_name": record["name"], "mac": mac, "security_groups": groups},
                         **addressing.get(mac, {})) for mac in macs]
    return entries


def _vif_addressing(vif):
    """The fixed IPv4 address, DHCP server and cidr of the VIF's first IPv4 subnet that has an address."""
    for subnet in (vif.get("network") or {}).get("subnets") or []:
        fixed = [ip["address"] for ip in subnet.get("ips") or [] if ip.get("address")]
        if subnet.get("cidr") and subnet.get("version") in (4, None) and fixed:
            return {"address": fixed[0], "dhcp_server": (subnet.get("meta") or {}).get("dhcp_server"),
                    "project_cidr": subnet["cidr"]}
    return {}


def release_networks(records, facts=None, networks=()):
    """The network definitions to release ``records`` from: what was recorded, never the inventory.

    Every network of the host's ``facts`` (its facts document) in which one of the records holds
    a fixed IP, as that host recorded the network, then ``networks`` (the definition a run used,
    for the controller's ledger), each network once. Only the definition's fields are kept, so
    the result is what nova_network's and ipam_allocate's ``network`` option takes.
    """
    facts = facts or {}
    uuids = {record["uuid"] for record in records}
    recorded = facts.get("networks") or {}
    held = sorted({fixed_ip.get("network_id") for fixed_ip in (facts.get("fixed_ips") or {}).values()
                   if fixed_ip.get("instance_uuid") in uuids})
    found, wanted = {}, [recorded[network_id] for network_id in held if network_id in recorded] + list(networks or [])
    for network in wanted:
        if network and network.get("uuid") not in found:
            found[network["uuid"]] = {field: network.get(field) for field in NETWORK_FIELDS if field in network}
    return list(found.values())


def _each(mapping):
    """A one-entry-per-record mapping, applied to every record."""
    def specs(records, **context):
        return [mapping(record, **context) for record in records]
    return specs


# module -> specs(records, **context); nwfilter makes one entry per VIF, release_networks one per
# network, the others one per record.
SPECS = {
    "release_networks": release_networks,
    "config_drive": _each(config_drive_spec),
    "image_cache": _each(image_cache_spec),
    "ipam_allocate": _each(ipam_request),
    "libvirt_domain": _each(libvirt_domain_spec),
    "nova_network": _each(release_entry),
    "nwfilter": instance_filters,
}


def specs_for(records, module, **context):
    """The list ``module`` takes for ``records`` (instance records of one host)."""
    try:
        specs = SPECS[module]
    except KeyError:
        raise InvalidInput("no instance mapping for module %r (known: %s)" % (module, ", ".join(sorted(SPECS))))
    return specs(records, **context)
