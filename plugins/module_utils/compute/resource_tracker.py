# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's resource tracker (``nova/compute/resource_tracker.py``): the compute node record the
scheduler filters on, and the ``compute_node_facts`` module's work.

Totals come from the hypervisor (libvirt's node info, as ``LibvirtDriver.get_available_resource``)
and the file system of instances_path; usage is counted from the instance records on this host
(their flavors), as Nova's ``_update_usage_from_instances`` counted it, not from what the guests
happen to use now. A resize or cold migration that awaits confirm or revert also holds its old
flavor on its source host (the host's ``migrations`` section, ``compute/resize.py``), as Nova's
``_update_usage_from_migrations`` held it, so that a revert always finds room.
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import (
    LOCAL_FACTS, as_local_facts, parse_document)
from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text
from ansible_collections.novalite.compute.plugins.module_utils.compute import host_state
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import live_records
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import libvirt, libvirt_connection

GIB = 1024 ** 3
# set by compute_node_facts (ansible_facts.novalite_compute_node), read by the schedule_instances action
NODE_FACT = "novalite_compute_node"


def hypervisor_totals(conn):
    """(cpu_arch, memory_mb, vcpus, hypervisor_type, hypervisor_version, hostname) from libvirt.

    The hostname is the node name: libvirt's getHostname() resolves it in DNS and can stall
    for seconds where DNS does not answer.
    """
    arch, memory_mb, vcpus = conn.getInfo()[:3]
    return {"cpu_arch": arch, "memory_mb": memory_mb, "vcpus": vcpus, "hypervisor_type": conn.getType(),
            "hypervisor_version": conn.getVersion(), "hypervisor_hostname": os.uname().nodename}


def has_nwfilter_driver(conn):
    """Whether libvirt can list nwfilters: without the driver, no anti-spoofing."""
    try:
        conn.listNWFilters()
    except libvirt.libvirtError:
        return False
    return True


def disk_totals(path):
    """(local_gb, free_disk_gb) of the file system holding ``path`` (the nearest existing parent)."""
    while not os.path.exists(path):
        path = os.path.dirname(path)
    stats = os.statvfs(path)
    return stats.f_blocks * stats.f_frsize // GIB, stats.f_bavail * stats.f_frsize // GIB


def compute_node(totals, local_gb, free_disk_gb, instances, reserved_host_memory_mb=512, reserved_host_disk_mb=0,
                 migrations=()):
    """The compute node record: totals, usage by this host's live instances (and the old flavors of
    its unfinished migrations), and the derived free values."""
    live = live_records(instances)
    flavors = [r["flavor"] for r in live] + [m["old_flavor"] for m in migrations if m.get("old_flavor")]
    memory_used = reserved_host_memory_mb + sum(f["memory_mb"] for f in flavors)
    disk_used = reserved_host_disk_mb / 1024.0 + sum(f["root_gb"] + f.get("ephemeral_gb", 0) for f in flavors)
    node = dict(totals)
    node.update(
        memory_mb_used=memory_used, free_ram_mb=totals["memory_mb"] - memory_used,
        vcpus_used=sum(f["vcpus"] for f in flavors),
        local_gb=local_gb, local_gb_used=disk_used, free_disk_gb=free_disk_gb,
        running_vms=len(live), instances=sorted(r["uuid"] for r in live))
    return node


def hypervisor_report(uri, with_domains=False):
    """The hypervisor's totals and whether it has an nwfilter driver, over a read-only connection;
    ``with_domains`` adds ``power_states`` ({domain name: Nova's power state})."""
    with libvirt_connection(uri, read_only=True) as conn:
        totals = hypervisor_totals(conn)
        totals["nwfilter_driver"] = has_nwfilter_driver(conn)
        power_states = host_state.domain_power_states(conn) if with_domains else None
    return totals, power_states


def compute_node_facts(module):
    """The compute_node_facts result: this host's compute node record as the fact NODE_FACT and,
    asked for, its facts document (LOCAL_FACTS) and how the host compares with it (STATE_FACT),
    all in one call."""
    if libvirt is None:
        raise NovaliteError(missing_required_lib("libvirt-python (python3-libvirt)"))
    params = module.params
    totals, power_states = hypervisor_report(params["uri"], with_domains=params["host_state"])
    local_gb, free_disk_gb = disk_totals(params["instances_path"])
    # read once: the record of usage and, asked for, the facts as setup would have gathered them
    text = read_text(params["facts_path"])
    document = parse_document(text, origin=params["facts_path"])
    node = compute_node(totals, local_gb, free_disk_gb, document["instances"].values(),
                        params["reserved_host_memory_mb"], params["reserved_host_disk_mb"],
                        migrations=(document.get("migrations") or {}).values())
    facts = {NODE_FACT: node}
    if params["local_facts"]:
        # setup leaves ansible_local empty when the file is not there
        facts.update(as_local_facts(document) if text is not None and text.strip() else {LOCAL_FACTS: {}})
    if params["host_state"]:
        changes = host_state.network_differences(module.run_command, module.get_bin_path, document,
                                                 params["networks_path"])
        facts[host_state.STATE_FACT] = host_state.host_state(document["instances"].values(), power_states, changes)
    return {"changed": False, "ansible_facts": facts}
