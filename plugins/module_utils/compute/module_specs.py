# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instance records turned into the batch entries each per-host module takes.

The roles hand a host's instance records to every step; each module wants its own slice of
them. Keeping the mappings here (not in Jinja) keeps them readable and tested.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput


def image_cache_spec(record):
    return {"name": record["name"], "image_id": record["image_ref"], "kernel_id": record.get("kernel_id") or "",
            "ramdisk_id": record.get("ramdisk_id") or "", "root_gb": record["flavor"]["root_gb"]}


def ipam_request(record):
    return {"instance_uuid": record["uuid"], "instance_name": record["name"], "hostname": record["hostname"],
            "host": record["host"]}


def config_drive_spec(record, network_info=None):
    """The whole record (the config drive carries most of it) with its network info."""
    return dict(record, network_info=(network_info or {}).get(record["uuid"], record.get("network_info") or []))


def libvirt_domain_spec(record, network_info=None):
    return {"name": record["name"], "uuid": record["uuid"], "display_name": record["display_name"],
            "flavor": record["flavor"], "kernel_id": record.get("kernel_id") or "",
            "ramdisk_id": record.get("ramdisk_id") or "", "config_drive": bool(record.get("config_drive")),
            "network_info": (network_info or {}).get(record["uuid"], record.get("network_info") or [])}


def release_entry(record):
    """nova_network state=absent reads only the uuid."""
    return {"instance_uuid": record["uuid"]}


MAPPINGS = {
    "config_drive": config_drive_spec,
    "image_cache": image_cache_spec,
    "ipam_allocate": ipam_request,
    "libvirt_domain": libvirt_domain_spec,
    "nova_network": release_entry,
}


def instance_filters(records, network_info=None):
    """nwfilter's instance_filters: one per VIF (nova-instance-<name>-<mac>)."""
    filters = []
    for record in records:
        for vif in (network_info or {}).get(record["uuid"], record.get("network_info") or []):
            filters.append({"instance_name": record["name"], "mac": vif["address"],
                            "security_groups": record.get("security_groups") or ["default"]})
    return filters


def specs_for(records, module, **context):
    """The list ``module`` takes for ``records`` (instance records of one host)."""
    if module == "nwfilter":
        return instance_filters(records, **context)
    try:
        mapping = MAPPINGS[module]
    except KeyError:
        raise InvalidInput("no instance mapping for module %r (known: %s)" % (module, ", ".join(sorted(MAPPINGS) + ["nwfilter"])))
    return [mapping(record, **context) for record in records]
