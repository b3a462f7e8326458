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


def _vifs(record, network_info):
    """The instance's VIFs from this run's ``network_info``, else those stored in its record."""
    return (network_info or {}).get(record["uuid"], record.get("network_info") or [])


def image_cache_spec(record):
    return {"name": record["name"], "image_id": record["image_ref"], "kernel_id": record.get("kernel_id") or "",
            "ramdisk_id": record.get("ramdisk_id") or "", "root_gb": record["flavor"]["root_gb"]}


def ipam_request(record):
    return {"instance_uuid": record["uuid"], "instance_name": record["name"], "hostname": record["hostname"],
            "host": record["host"]}


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


def instance_filters(records, network_info=None):
    """nwfilter's instance_filters: one per VIF (nova-instance-<name>-<mac>)."""
    return [{"instance_name": record["name"], "mac": vif["address"],
             "security_groups": record.get("security_groups") or ["default"]}
            for record in records for vif in _vifs(record, network_info)]


def _each(mapping):
    """A one-entry-per-record mapping, applied to every record."""
    def specs(records, **context):
        return [mapping(record, **context) for record in records]
    return specs


# module -> specs(records, **context); nwfilter makes one entry per VIF, the others one per record.
SPECS = {
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
