# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the scheduler knows of one compute host (Nova's HostState), and how a placement uses it."""

from __future__ import annotations

# Nova's defaults: ram_allocation_ratio, cpu_allocation_ratio, disk_allocation_ratio
DEFAULT_RATIOS = {"ram": 1.5, "cpu": 16.0, "disk": 1.0}


class HostState:
    def __init__(self, name, node, enabled=True, availability_zone="nova", ratios=None):
        """``node`` is the compute node record that compute_node_info reports for the host."""
        self.name = name
        self.enabled = enabled
        self.availability_zone = availability_zone
        self.ratios = dict(DEFAULT_RATIOS, **(ratios or {}))
        self.total_ram_mb = node["memory_mb"]
        self.used_ram_mb = node["memory_mb_used"]
        self.total_vcpus = node["vcpus"]
        self.used_vcpus = node["vcpus_used"]
        self.total_disk_gb = node["local_gb"]
        self.used_disk_gb = node["local_gb_used"]
        self.free_disk_gb_on_fs = node.get("free_disk_gb", node["local_gb"] - node["local_gb_used"])
        self.cpu_arch = node.get("cpu_arch", "x86_64")
        self.hypervisor_type = node.get("hypervisor_type", "qemu").lower()

    @property
    def free_ram_mb(self):
        return self.total_ram_mb - self.used_ram_mb

    def usable_ram_mb(self):
        return self.total_ram_mb * self.ratios["ram"] - self.used_ram_mb

    def usable_vcpus(self):
        return self.total_vcpus * self.ratios["cpu"] - self.used_vcpus

    def usable_disk_gb(self):
        return min(self.total_disk_gb * self.ratios["disk"] - self.used_disk_gb, self.free_disk_gb_on_fs)

    def consume(self, flavor):
        """Account for an instance placed here, so the next one in the batch sees it."""
        disk = requested_disk_gb(flavor)
        self.used_ram_mb += flavor["memory_mb"]
        self.used_vcpus += flavor["vcpus"]
        self.used_disk_gb += disk
        self.free_disk_gb_on_fs -= disk


def requested_disk_gb(flavor):
    return flavor["root_gb"] + flavor.get("ephemeral_gb", 0) + flavor.get("swap", 0) / 1024.0
