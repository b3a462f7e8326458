# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The devices of a guest (seed 1.5): disks, bridge NICs, serials, tablet, VNC, video.

Each reads back only the attributes it sets. What libvirt adds on its own (PCI and drive
addresses, aliases, serial targets, the VNC ``<listen>`` child and port -1, video RAM) is left
out, so it never counts as a difference.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.virt.filterref import FilterRefConfig
from ansible_collections.novalite.compute.plugins.module_utils.virt.xml_config import (
    ConfigObject, add_child, child_attribute, set_attributes)


class GuestDisk(ConfigObject):
    root_name = "disk"

    def __init__(self, device="disk", source=None, target_dev=None, target_bus=None,
                 driver_type=None, cache=None, readonly=False):
        self.device = device
        self.source = source
        self.target_dev = target_dev
        self.target_bus = target_bus
        self.driver_type = driver_type
        self.cache = cache
        self.readonly = readonly

    def format_dom(self):
        disk = set_attributes(super().format_dom(), type="file", device=self.device)
        add_child(disk, "driver", name="qemu", type=self.driver_type, cache=self.cache)
        add_child(disk, "source", file=self.source)
        add_child(disk, "target", dev=self.target_dev, bus=self.target_bus)
        if self.readonly:
            add_child(disk, "readonly")
        return disk

    @classmethod
    def from_dom(cls, element):
        return cls(device=element.get("device"), source=child_attribute(element, "source", "file"),
                   target_dev=child_attribute(element, "target", "dev"),
                   target_bus=child_attribute(element, "target", "bus"),
                   driver_type=child_attribute(element, "driver", "type"),
                   cache=child_attribute(element, "driver", "cache"),
                   readonly=element.find("readonly") is not None)


class GuestInterface(ConfigObject):
    """A NIC on a Linux bridge, as Nova's ``set_vif_host_backend_bridge_config`` leaves it."""

    root_name = "interface"

    def __init__(self, mac=None, bridge=None, model="virtio", filterref=None):
        self.mac = mac
        self.bridge = bridge
        self.model = model
        self.filterref = filterref

    def format_dom(self):
        interface = set_attributes(super().format_dom(), type="bridge")
        add_child(interface, "mac", address=self.mac)
        add_child(interface, "model", type=self.model)
        add_child(interface, "source", bridge=self.bridge)
        if self.filterref is not None:
            interface.append(self.filterref.format_dom())
        return interface

    @classmethod
    def from_dom(cls, element):
        filterref = element.find("filterref")
        return cls(mac=child_attribute(element, "mac", "address"), bridge=child_attribute(element, "source", "bridge"),
                   model=child_attribute(element, "model", "type"),
                   filterref=None if filterref is None else FilterRefConfig.parse_dom(filterref))


class GuestSerial(ConfigObject):
    root_name = "serial"

    def __init__(self, kind="pty", path=None):
        self.kind = kind
        self.path = path

    def format_dom(self):
        serial = set_attributes(super().format_dom(), type=self.kind)
        if self.path is not None:
            add_child(serial, "source", path=self.path)
        return serial

    @classmethod
    def from_dom(cls, element):
        return cls(element.get("type"), child_attribute(element, "source", "path"))


class GuestInput(ConfigObject):
    root_name = "input"
    # libvirt adds these to every x86 guest whether asked or not.
    IMPLICIT = (("mouse", "ps2"), ("keyboard", "ps2"))

    def __init__(self, kind="tablet", bus="usb"):
        self.kind = kind
        self.bus = bus

    def format_dom(self):
        return set_attributes(super().format_dom(), type=self.kind, bus=self.bus)

    @classmethod
    def from_dom(cls, element):
        return cls(element.get("type"), element.get("bus"))

    @property
    def implicit(self):
        return (self.kind, self.bus) in self.IMPLICIT


class GuestGraphics(ConfigObject):
    root_name = "graphics"

    def __init__(self, kind="vnc", listen=None, keymap=None, autoport="yes"):
        self.kind = kind
        self.listen = listen
        self.keymap = keymap
        self.autoport = autoport

    def format_dom(self):
        return set_attributes(super().format_dom(), type=self.kind, autoport=self.autoport,
                              keymap=self.keymap, listen=self.listen)

    @classmethod
    def from_dom(cls, element):
        # libvirt may move the address into a <listen type='address'> child.
        listen = element.get("listen") or child_attribute(element, "listen", "address")
        return cls(element.get("type"), listen, element.get("keymap"), element.get("autoport"))


class GuestVideo(ConfigObject):
    root_name = "video"

    def __init__(self, model="vga"):
        self.model = model

    def format_dom(self):
        video = super().format_dom()
        add_child(video, "model", type=self.model)
        return video

    @classmethod
    def from_dom(cls, element):
        return cls(child_attribute(element, "model", "type"))


# libvirt's own order of device kinds; disks further by target, so their order is canonical too.
DEVICE_CLASSES = (GuestDisk, GuestInterface, GuestSerial, GuestInput, GuestGraphics, GuestVideo)
_KIND_RANK = {cls.root_name: rank for rank, cls in enumerate(DEVICE_CLASSES)}
_CLASS_BY_TAG = {cls.root_name: cls for cls in DEVICE_CLASSES}


def device_sort_key(device):
    target = device.target_dev if isinstance(device, GuestDisk) else None
    return (_KIND_RANK[device.root_name], target or "")


def parse_devices(devices_element):
    """The devices novalite manages, in canonical order; everything else is libvirt's own."""
    devices = []
    for element in devices_element if devices_element is not None else ():
        device_class = _CLASS_BY_TAG.get(element.tag)
        if device_class is None:
            continue
        device = device_class.parse_dom(element)
        if not getattr(device, "implicit", False):
            devices.append(device)
    return sorted(devices, key=device_sort_key)
