# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``<domain>``: Nova's ``LibvirtConfigGuest``, in the shape of the seed's libvirt.xml."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain_devices import (
    device_sort_key, parse_devices)
from ansible_collections.novalite.compute.plugins.module_utils.virt.xml_config import (
    ConfigObject, add_child, child_attribute, child_text)

# libvirt accepts these units on <memory>; the value is kept in KiB, as Nova does.
_KIB_PER_UNIT = {
    "b": 1 / 1024.0, "bytes": 1 / 1024.0, "KB": 1000 / 1024.0, "k": 1, "KiB": 1,
    "MB": 1000 ** 2 / 1024.0, "M": 1024, "MiB": 1024, "GB": 1000 ** 3 / 1024.0, "G": 1024 ** 2,
    "GiB": 1024 ** 2, "TB": 1000 ** 4 / 1024.0, "T": 1024 ** 3, "TiB": 1024 ** 3,
}


def memory_kib(element):
    if element is None or element.text is None:
        return None
    unit = element.get("unit", "KiB")
    if unit not in _KIB_PER_UNIT:
        raise NovaliteError("unknown memory unit %r in a domain definition" % unit)
    return int(round(int(element.text.strip()) * _KIB_PER_UNIT[unit]))


class GuestConfig(ConfigObject):
    root_name = "domain"

    def __init__(self, virt_type="qemu", name=None, uuid=None, title=None, memory_kib=None, vcpus=None,
                 kernel=None, initrd=None, cmdline=None, acpi=True, clock_offset="utc", devices=()):
        self.virt_type = virt_type
        self.name = name
        self.uuid = uuid
        self.title = title
        self.memory_kib = memory_kib
        self.vcpus = vcpus
        self.kernel = kernel
        self.initrd = initrd
        self.cmdline = cmdline
        self.acpi = acpi
        self.clock_offset = clock_offset
        self.devices = list(devices)

    def format_dom(self):
        domain = super().format_dom()
        domain.set("type", self.virt_type)
        add_child(domain, "uuid", self.uuid)
        add_child(domain, "name", self.name)
        if self.title:
            add_child(domain, "title", self.title)
        add_child(domain, "memory", self.memory_kib)
        add_child(domain, "vcpu", self.vcpus)
        self._format_os(add_child(domain, "os"))
        features = add_child(domain, "features")
        if self.acpi:
            add_child(features, "acpi")
        add_child(domain, "clock", offset=self.clock_offset)
        devices = add_child(domain, "devices")
        for device in sorted(self.devices, key=device_sort_key):
            devices.append(device.format_dom())
        return domain

    def _format_os(self, os_element):
        add_child(os_element, "type", "hvm")
        for tag, value in (("kernel", self.kernel), ("initrd", self.initrd), ("cmdline", self.cmdline)):
            if value is not None:
                add_child(os_element, tag, value)

    @classmethod
    def from_dom(cls, element):
        vcpus = child_text(element, "vcpu")
        return cls(virt_type=element.get("type"), name=child_text(element, "name"),
                   uuid=child_text(element, "uuid"), title=child_text(element, "title"),
                   memory_kib=memory_kib(element.find("memory")), vcpus=int(vcpus) if vcpus else None,
                   kernel=child_text(element, "os/kernel"), initrd=child_text(element, "os/initrd"),
                   cmdline=child_text(element, "os/cmdline"), acpi=element.find("features/acpi") is not None,
                   clock_offset=child_attribute(element, "clock", "offset"),
                   devices=parse_devices(element.find("devices")))
