# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's resource tracker: the compute node record the scheduler filters on.

Totals come from the hypervisor (libvirt's node info) and the file system of instances_path;
usage is counted from the instance records on this host (their flavors), as Nova counted it,
not from what the guests happen to use now.
"""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import live_records

try:
    import libvirt
except ImportError:  # compute_node_info reports it before any connection is made
    libvirt = None

GIB = 1024 ** 3
NODE_FACT = "novalite_compute_node"  # set by compute_node_info, read by the schedule_instances action


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


def compute_node(totals, local_gb, free_disk_gb, instances, reserved_host_memory_mb=512, reserved_host_disk_mb=0):
    """The compute node record: totals, usage by this host's live instances, and the derived free values."""
    live = live_records(instances)
    memory_used = reserved_host_memory_mb + sum(r["flavor"]["memory_mb"] for r in live)
    disk_used = reserved_host_disk_mb / 1024.0 + sum(
        r["flavor"]["root_gb"] + r["flavor"].get("ephemeral_gb", 0) for r in live)
    node = dict(totals)
    node.update(
        memory_mb_used=memory_used, free_ram_mb=totals["memory_mb"] - memory_used,
        vcpus_used=sum(r["flavor"]["vcpus"] for r in live),
        local_gb=local_gb, local_gb_used=disk_used, free_disk_gb=free_disk_gb,
        running_vms=len(live), instances=sorted(r["uuid"] for r in live))
    return node
