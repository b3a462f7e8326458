# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every libvirt XML element novalite writes or reads, after Nova's ``nova/virt/libvirt/config.py``.

Each element is a small class with plain attributes that formats itself (``format_dom``) and
parses itself (``parse_dom``); none of them decides anything (that is ``guest.py``'s and
``nwfilter.py``'s work). Parsing reads back only what the class itself formats, so a parsed
libvirt definition and a freshly built one format to the same text exactly when they agree on
everything novalite sets: that text is what gets compared and shown as a diff. Values only
ever reach the XML through lxml, which escapes them.

- the base: ``ConfigObject`` and the small element helpers;
- a domain: ``GuestConfig`` (Nova's ``LibvirtConfigGuest``) and its devices;
- ``FilterRefConfig``, which sits in a domain's ``<interface>`` as well as in an nwfilter;
- an nwfilter: ``FilterConfig`` and its ``RuleConfig``s.
"""

from __future__ import annotations

import re

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

try:
    from lxml import etree
except ImportError:  # reported by connection.require_libraries before any use
    etree = None


# --- the base ---------------------------------------------------------------------------------

def _parser():
    # libvirt's XML is trusted, but there is no reason to let any XML fetch or expand anything.
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


class ConfigObject:
    """Nova's ``LibvirtConfigObject``: one element, its text form, and equality by that text."""

    root_name = None

    def format_dom(self):
        return etree.Element(self.root_name)

    def to_xml(self):
        return etree.tostring(self.format_dom(), pretty_print=True, encoding="unicode")

    @classmethod
    def parse_str(cls, text):
        try:
            root = etree.fromstring(text.encode("utf-8"), _parser())
        except etree.XMLSyntaxError as exc:
            raise NovaliteError("cannot read <%s> XML: %s" % (cls.root_name, exc)) from exc
        return cls.parse_dom(root)

    @classmethod
    def parse_dom(cls, element):
        if element.tag != cls.root_name:
            raise NovaliteError("expected <%s>, found <%s>" % (cls.root_name, element.tag))
        return cls.from_dom(element)

    @classmethod
    def from_dom(cls, element):
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self.to_xml() == other.to_xml()

    def __hash__(self):
        return hash(self.to_xml())

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.to_xml().strip())


def add_child(parent, tag, text=None, **attributes):
    """Append ``<tag>`` with ``text`` and the attributes that are not None."""
    child = etree.SubElement(parent, tag)
    set_attributes(child, **attributes)
    if text is not None:
        child.text = str(text)
    return child


def set_attributes(element, **attributes):
    for name, value in attributes.items():
        if value is not None:
            element.set(name, str(value))
    return element


def child_attribute(element, path, attribute):
    child = element.find(path)
    return None if child is None else child.get(attribute)


def child_text(element, path):
    child = element.find(path)
    return None if child is None or child.text is None else child.text.strip()


# --- filterref: in a domain's <interface> and in an nwfilter --------------------------------------

# libvirt prints the parameters sorted by name; they are formatted in one fixed order (the order
# Nova's libvirt VIF driver added them in, then the rest by name) so order never shows as a change.
FILTER_PARAMETER_ORDER = ("IP", "DHCPSERVER", "PROJNET", "PROJMASK")


def _parameter_order(name):
    if name in FILTER_PARAMETER_ORDER:
        return (0, FILTER_PARAMETER_ORDER.index(name), name)
    return (1, 0, name)


class FilterRefConfig(ConfigObject):
    """``<filterref filter='...'><parameter name='' value=''/></filterref>``."""

    root_name = "filterref"

    def __init__(self, filter_name=None, parameters=None):
        self.filter_name = filter_name
        self.parameters = dict(parameters or {})

    def format_dom(self):
        element = super().format_dom()
        element.set("filter", self.filter_name)
        for name in sorted(self.parameters, key=_parameter_order):
            add_child(element, "parameter", name=name, value=self.parameters[name])
        return element

    @classmethod
    def from_dom(cls, element):
        parameters = {parameter.get("name"): parameter.get("value") for parameter in element.findall("parameter")}
        return cls(element.get("filter"), parameters)


# --- the devices of a domain ------------------------------------------------------------------
# Each reads back only the attributes it sets. What libvirt adds on its own (PCI and drive
# addresses, aliases, serial targets, the VNC <listen> child and port -1, video RAM) is left
# out, so it never counts as a difference.

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
    """A NIC on a Linux bridge, as Nova's ``designer.set_vif_host_backend_bridge_config`` leaves it."""

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


# --- the domain -------------------------------------------------------------------------------

# libvirt accepts these units on <memory>; the value is kept in KiB, as Nova does.
_KIB_PER_UNIT = {
    "b": 1 / 1024.0, "bytes": 1 / 1024.0, "KB": 1000 / 1024.0, "k": 1, "KiB": 1,
    "MB": 1000 ** 2 / 1024.0, "M": 1024, "MiB": 1024, "GB": 1000 ** 3 / 1024.0, "G": 1024 ** 2,
    "GiB": 1024 ** 2, "TB": 1000 ** 4 / 1024.0, "T": 1024 ** 3, "TiB": 1024 ** 3,
}


def read_memory_kib(element):
    """A ``<memory unit=...>`` element's size in KiB (None without one)."""
    if element is None or element.text is None:
        return None
    unit = element.get("unit", "KiB")
    if unit not in _KIB_PER_UNIT:
        raise NovaliteError("unknown memory unit %r in a domain definition" % unit)
    return int(round(int(element.text.strip()) * _KIB_PER_UNIT[unit]))


class GuestConfig(ConfigObject):
    """``<domain>``: Nova's ``LibvirtConfigGuest`` with the elements novalite sets."""

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
                   memory_kib=read_memory_kib(element.find("memory")), vcpus=int(vcpus) if vcpus else None,
                   kernel=child_text(element, "os/kernel"), initrd=child_text(element, "os/initrd"),
                   cmdline=child_text(element, "os/cmdline"), acpi=element.find("features/acpi") is not None,
                   clock_offset=child_attribute(element, "clock", "offset"),
                   devices=parse_devices(element.find("devices")))


# --- an nwfilter ------------------------------------------------------------------------------
# The uuid is not part of a filter's meaning: it is never parsed, and only formatted when set,
# which the nwfilter service does just before defining (with the uuid libvirt already has for
# the name). libvirt prints every rule's priority and numbers in its own way; rules are always
# formatted with an explicit priority and numbers are normalised, so libvirt's echo parses back
# equal.

DEFAULT_RULE_PRIORITY = 500
_NUMBER = re.compile(r"0x[0-9a-fA-F]+|[0-9]+")


def _canonical(value):
    """Numbers in decimal (libvirt may print some in hex); addresses and $VARIABLES as they are."""
    if not _NUMBER.fullmatch(value):
        return value
    return str(int(value, 16) if value.lower().startswith("0x") else int(value, 10))


class RuleConfig(ConfigObject):
    """``<rule action= direction= priority=><protocol .../></rule>``."""

    root_name = "rule"

    def __init__(self, action, direction, priority=DEFAULT_RULE_PRIORITY, protocol=None, statematch=True,
                 **attributes):
        self.action = action
        self.direction = direction
        self.priority = priority
        self.protocol = protocol  # the match element: tcp, udp, icmp, all, ip, ... (None: match everything)
        self.statematch = statematch
        self.attributes = {name: str(value) for name, value in attributes.items() if value is not None}

    def format_dom(self):
        rule = super().format_dom()
        rule.set("action", self.action)
        rule.set("direction", self.direction)
        rule.set("priority", str(self.priority))
        if not self.statematch:
            rule.set("statematch", "false")
        if self.protocol:
            add_child(rule, self.protocol, **{name: _canonical(value) for name, value in
                                              sorted(self.attributes.items())})
        return rule

    @classmethod
    def from_dom(cls, element):
        match = element[0] if len(element) else None
        return cls(element.get("action"), element.get("direction"),
                   int(element.get("priority", DEFAULT_RULE_PRIORITY)),
                   None if match is None else match.tag,
                   element.get("statematch", "true").lower() not in ("false", "0"),
                   **({} if match is None else dict(match.attrib)))


class FilterConfig(ConfigObject):
    """``<filter name= chain=>`` holding filterrefs and rules, in order."""

    root_name = "filter"

    def __init__(self, name, chain="root", entries=(), uuid=None):
        self.name = name
        self.chain = chain
        self.entries = list(entries)  # FilterRefConfig and RuleConfig, in order
        self.uuid = uuid

    def format_dom(self):
        element = super().format_dom()
        element.set("name", self.name)
        element.set("chain", self.chain)
        if self.uuid:
            add_child(element, "uuid", self.uuid)
        for entry in self.entries:
            element.append(entry.format_dom())
        return element

    @classmethod
    def from_dom(cls, element):
        parsers = {"filterref": FilterRefConfig.parse_dom, "rule": RuleConfig.parse_dom}
        entries = [parsers[child.tag](child) for child in element if child.tag in parsers]
        return cls(element.get("name"), element.get("chain", "root"), entries)

    @property
    def referenced(self):
        return [entry.filter_name for entry in self.entries if isinstance(entry, FilterRefConfig)]

    def with_uuid(self, uuid):
        return FilterConfig(self.name, self.chain, self.entries, uuid)
