# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""From an instance spec to the guest config: Nova's ``to_xml`` and ``designer.py``.

The policy lives here (the seed's devices and values); the classes only format and parse.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.virt.domain_config import GuestConfig
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain_devices import (
    GuestDisk, GuestGraphics, GuestInput, GuestInterface, GuestSerial, GuestVideo)
from ansible_collections.novalite.compute.plugins.module_utils.virt.filterref import FilterRefConfig


class HostSettings:
    """Per-host choices that apply to every instance of one call."""

    def __init__(self, virt_type="qemu", graphics_listen="127.0.0.1", disk_cache="writeback", keymap="en-us"):
        self.virt_type = virt_type
        self.graphics_listen = graphics_listen
        self.disk_cache = disk_cache
        self.keymap = keymap


def build_guest(spec, settings, uuid):
    """The wanted definition; ``uuid`` is the spec's, else the existing domain's, else a new one."""
    guest = GuestConfig(virt_type=settings.virt_type, name=spec.name, uuid=uuid, title=spec.display_name,
                        memory_kib=spec.memory_mb * 1024, vcpus=spec.vcpus, kernel=spec.kernel,
                        initrd=spec.ramdisk, cmdline=spec.cmdline, acpi=True, clock_offset="utc")
    guest.devices.extend(_disks(spec, settings))
    guest.devices.extend(_interface(spec.name, vif) for vif in spec.vifs)
    guest.devices.extend([
        GuestSerial("file", spec.console_log_path),  # the console Nova keeps in console.log
        GuestSerial("pty"),
        GuestInput("tablet", "usb"),
        GuestGraphics("vnc", listen=settings.graphics_listen, keymap=settings.keymap),
        GuestVideo("vga"),
    ])
    return guest


def _disks(spec, settings):
    disks = [GuestDisk("disk", spec.disk, "vda", "virtio", spec.disk_format, settings.disk_cache)]
    if spec.config_drive:
        # Nova's config drive: an IDE cdrom the guest sees as /dev/sr0.
        disks.append(GuestDisk("cdrom", spec.config_drive, "hdb", "ide", "raw", readonly=True))
    return disks


def _interface(instance_name, vif):
    # Folsom/seed style: the parameters ride on the interface's filterref and reach every
    # filter that nova-instance-... references.
    filterref = FilterRefConfig(vif.filter_name(instance_name), vif.filter_parameters())
    return GuestInterface(mac=vif.mac, bridge=vif.bridge, model="virtio", filterref=filterref)
