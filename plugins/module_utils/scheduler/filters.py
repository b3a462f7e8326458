# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's scheduler filters: each returns None when the host passes, else the reason it does not."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import requested_disk_gb


def compute_filter(host, request):
    return None if host.enabled else "the host is disabled"


def target_host_filter(host, request):
    wanted = request.get("target_host")
    return None if not wanted or wanted == host.name else "the request asks for host %s" % wanted


def availability_zone_filter(host, request):
    wanted = request.get("availability_zone")
    if not wanted or wanted == host.availability_zone:
        return None
    return "it is in availability zone %s, not %s" % (host.availability_zone, wanted)


def ram_filter(host, request):
    needed, usable = request["flavor"]["memory_mb"], host.usable_ram_mb()
    return None if usable >= needed else "%d MB of RAM usable (ratio %.1f), %d MB needed" % (
        usable, host.ratios["ram"], needed)


def core_filter(host, request):
    needed, usable = request["flavor"]["vcpus"], host.usable_vcpus()
    return None if usable >= needed else "%d vcpus usable (ratio %.1f), %d needed" % (
        usable, host.ratios["cpu"], needed)


def disk_filter(host, request):
    needed, usable = requested_disk_gb(request["flavor"]), host.usable_disk_gb()
    return None if usable >= needed else "%.1f GB of disk usable, %.1f GB needed" % (usable, needed)


def image_properties_filter(host, request):
    """The image's architecture and hypervisor_type properties, when set, must match the host."""
    properties = request.get("image_properties") or {}
    architecture = properties.get("architecture")
    if architecture and architecture != host.cpu_arch:
        return "the image needs architecture %s, the host is %s" % (architecture, host.cpu_arch)
    hypervisor = (properties.get("hypervisor_type") or "").lower()
    if hypervisor and hypervisor not in (host.hypervisor_type, "qemu" if host.hypervisor_type == "kvm" else None):
        return "the image needs hypervisor %s, the host runs %s" % (hypervisor, host.hypervisor_type)
    return None


DEFAULT_FILTERS = (compute_filter, target_host_filter, availability_zone_filter, ram_filter, core_filter,
                   disk_filter, image_properties_filter)
