# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``virt_type: auto``: kvm only when kvm can really run a guest here, else qemu (TCG).

/dev/kvm alone proves nothing: a paravirtual KVM (kvm_pvm) opens and answers ioctls, and a
``type='kvm'`` domain starts and burns CPU, but an ordinary guest kernel never runs. So auto
asks for all three: the device opens read-write, the CPU offers hardware virtualization
(vmx or svm), and libvirt itself reports kvm domains for this host (its capability probe).
"""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import libvirt

VIRT_TYPES = ("auto", "qemu", "kvm")
KVM_DEVICE = "/dev/kvm"
CPUINFO = "/proc/cpuinfo"
HARDWARE_VIRT_FLAGS = {"vmx", "svm"}


def resolve_virt_type(requested, conn, kvm_device=KVM_DEVICE, cpuinfo=CPUINFO):
    """The domain type to use, and why (for the result)."""
    if requested != "auto":
        return requested, "forced"
    reasons = []
    if not _device_usable(kvm_device):
        reasons.append("%s cannot be opened read-write" % kvm_device)
    if not cpu_has_hardware_virt(cpuinfo):
        reasons.append("the CPU has no vmx/svm flag")
    if not reasons and not libvirt_offers_kvm(conn):
        reasons.append("libvirt reports no kvm domain capability")
    if reasons:
        return "qemu", "auto: " + "; ".join(reasons)
    return "kvm", "auto: %s usable, vmx/svm present, libvirt offers kvm" % kvm_device


def _device_usable(path):
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    return True


def cpu_has_hardware_virt(cpuinfo=CPUINFO):
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                name, _colon, value = line.partition(":")
                if name.strip() == "flags":
                    return bool(HARDWARE_VIRT_FLAGS & set(value.split()))
    except OSError:
        return False
    return False


def libvirt_offers_kvm(conn):
    try:
        conn.getDomainCapabilities(None, None, None, "kvm", 0)
    except libvirt.libvirtError:
        return False
    return True
