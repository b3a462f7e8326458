"""A small in-memory libvirt for unit tests (integration tests use the real one).

It behaves where the modules depend on it: lookups fail with libvirt's error codes, a name
keeps its uuid, XMLDesc answers in libvirt's normalised shape (units, addresses, controllers,
serial targets, implicit inputs, sorted filter parameters: see ``libvirt_echo``), filters in
use refuse to be undefined, and starts can be made to fail.
"""

import copy

import libvirt
from lxml import etree

RUNNING, PAUSED, SHUTOFF = libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_SHUTOFF


def libvirt_error(code, message):
    error = libvirt.libvirtError(message)
    error.err = (code, libvirt.VIR_FROM_NONE, message, libvirt.VIR_ERR_ERROR, None, None, None, 0, 0)
    return error


def libvirt_echo(xml):
    """What libvirt 9.0 prints back for a domain defined from ``xml`` (as seen on a real host)."""
    domain = etree.fromstring(xml)
    memory = domain.find("memory")
    memory.set("unit", "KiB")
    memory.addnext(etree.Element("currentMemory", unit="KiB"))
    memory.getnext().text = memory.text
    domain.find("vcpu").set("placement", "static")
    os_type = domain.find("os/type")
    os_type.set("arch", "x86_64")
    os_type.set("machine", "pc-i440fx-7.2")
    etree.SubElement(domain.find("os"), "boot", dev="hd")
    etree.SubElement(domain, "on_poweroff").text = "destroy"
    devices = domain.find("devices")
    devices.insert(0, etree.Element("emulator"))
    devices[0].text = "/usr/bin/qemu-system-x86_64"
    for index, device in enumerate(devices.findall("disk") + devices.findall("interface") + devices.findall("video")):
        etree.SubElement(device, "address", type="pci", domain="0x0000", bus="0x00", slot="0x%02x" % (index + 3))
    for serial in devices.findall("serial"):
        etree.SubElement(serial, "target", type="isa-serial", port="0")
    for filterref in devices.iter("filterref"):
        parameters = sorted(filterref.findall("parameter"), key=lambda p: p.get("name"))
        for parameter in parameters:
            filterref.remove(parameter)
            filterref.append(parameter)
    devices.append(etree.Element("controller", type="usb", index="0", model="piix3-uhci"))
    devices.append(etree.Element("input", type="mouse", bus="ps2"))
    devices.append(etree.Element("input", type="keyboard", bus="ps2"))
    for graphics in devices.findall("graphics"):
        graphics.set("port", "-1")
        etree.SubElement(graphics, "listen", type="address", address=graphics.get("listen"))
    for video_model in devices.iterfind("video/model"):
        video_model.set("vram", "16384")
    devices.append(etree.Element("memballoon", model="virtio"))
    return etree.tostring(domain, encoding="unicode")


class FakeDomain:
    def __init__(self, conn, xml):
        self.conn = conn
        self.xml = xml
        root = etree.fromstring(xml)
        self._name = root.findtext("name")
        self._uuid = root.findtext("uuid")
        self.state_code = SHUTOFF
        self.autostart_flag = False
        self.start_error = None
        self.obeys_acpi = True
        self.calls = []
        self.managed_save = False  # a managed save image exists (virDomainManagedSave)
        self.save_error = None

    def name(self):
        return self._name

    def UUIDString(self):
        return self._uuid

    def XMLDesc(self, flags=0):
        return libvirt_echo(self.xml)

    def state(self, flags=0):
        return [self.state_code, 1]

    def isActive(self):
        return self.state_code != SHUTOFF

    def autostart(self):
        return self.autostart_flag

    def setAutostart(self, flag):
        self.calls.append(("setAutostart", flag))
        self.autostart_flag = bool(flag)

    def createWithFlags(self, flags):
        self.calls.append(("create",))
        if self.start_error is not None:
            raise self.start_error  # pylint: disable=raising-bad-type
        if self.state_code != SHUTOFF:
            raise libvirt_error(libvirt.VIR_ERR_OPERATION_INVALID, "domain is already running")
        paused = flags & libvirt.VIR_DOMAIN_START_PAUSED
        self.state_code, self.managed_save = PAUSED if paused else RUNNING, False  # a start drops a managed save

    def destroy(self):
        self.calls.append(("destroy",))
        if self.state_code == SHUTOFF:
            raise libvirt_error(libvirt.VIR_ERR_OPERATION_INVALID, "domain is not running")
        self.state_code = SHUTOFF

    def shutdownFlags(self, flags):
        self.calls.append(("shutdown", flags))
        if self.obeys_acpi:
            self.state_code = SHUTOFF

    def resume(self):
        self.calls.append(("resume",))
        if self.state_code != PAUSED:
            raise libvirt_error(libvirt.VIR_ERR_OPERATION_INVALID, "domain is not paused")
        self.state_code = RUNNING

    def suspend(self):
        self.calls.append(("suspend",))
        if self.state_code != RUNNING:
            raise libvirt_error(libvirt.VIR_ERR_OPERATION_INVALID, "domain is not running")
        self.state_code = PAUSED

    def managedSave(self, flags):
        self.calls.append(("managedSave",))
        if self.save_error is not None:
            raise self.save_error  # pylint: disable=raising-bad-type
        if self.state_code == SHUTOFF:
            raise libvirt_error(libvirt.VIR_ERR_OPERATION_INVALID, "domain is not running")
        self.state_code, self.managed_save = SHUTOFF, True

    def hasManagedSaveImage(self, flags):
        return int(self.managed_save)

    def managedSaveRemove(self, flags):
        self.calls.append(("managedSaveRemove",))
        self.managed_save = False

    def undefine(self):
        self.calls.append(("undefine",))
        del self.conn.domains[self._name]

    def undefineFlags(self, flags):
        self.undefine()


class FakeNWFilter:
    def __init__(self, conn, xml, uuid):
        self.conn = conn
        self.xml = xml
        self._uuid = uuid
        self._name = etree.fromstring(xml).get("name")
        self.in_use_for = 0  # undefine attempts that still find it in use

    def name(self):
        return self._name

    def UUIDString(self):
        return self._uuid

    def XMLDesc(self, flags=0):
        root = etree.fromstring(self.xml)
        for uuid in root.findall("uuid"):
            root.remove(uuid)
        root.insert(0, etree.Element("uuid"))
        root[0].text = self._uuid
        for rule in root.iter("rule"):
            rule.set("priority", rule.get("priority", "500"))  # libvirt always prints it
        return etree.tostring(root, encoding="unicode")

    def undefine(self):
        if self.in_use_for:
            self.in_use_for -= 1
            raise libvirt_error(libvirt.VIR_ERR_OPERATION_INVALID,
                                "Requested operation is not valid: nwfilter is in use")
        del self.conn.nwfilters[self._name]


class FakeConnection:
    def __init__(self, kvm_capable=False):
        self.domains = {}
        self.nwfilters = {}
        self.kvm_capable = kvm_capable
        self.defined = []
        self._next_uuid = 0

    def _new_uuid(self):
        self._next_uuid += 1
        return "00000000-0000-4000-8000-%012d" % self._next_uuid

    def defineXML(self, xml):
        root = etree.fromstring(xml)
        name, uuid = root.findtext("name"), root.findtext("uuid")
        existing = self.domains.get(name)
        if existing is not None and uuid and existing.UUIDString() != uuid:
            raise libvirt_error(libvirt.VIR_ERR_OPERATION_FAILED, "domain '%s' already exists with uuid %s"
                                % (name, existing.UUIDString()))
        self.defined.append(name)
        if existing is not None:
            existing.xml = xml
            return existing
        self.domains[name] = FakeDomain(self, xml)
        return self.domains[name]

    def lookupByName(self, name):
        if name not in self.domains:
            raise libvirt_error(libvirt.VIR_ERR_NO_DOMAIN, "Domain not found: no domain with matching name '%s'" % name)
        return self.domains[name]

    def lookupByUUIDString(self, uuid):
        for domain in self.domains.values():
            if domain.UUIDString() == uuid:
                return domain
        raise libvirt_error(libvirt.VIR_ERR_NO_DOMAIN, "Domain not found: no domain with matching uuid '%s'" % uuid)

    def nwfilterLookupByName(self, name):
        if name not in self.nwfilters:
            raise libvirt_error(libvirt.VIR_ERR_NO_NWFILTER, "Network filter not found: %s" % name)
        return self.nwfilters[name]

    def nwfilterDefineXML(self, xml):
        root = etree.fromstring(xml)
        name, uuid = root.get("name"), root.findtext("uuid")
        existing = self.nwfilters.get(name)
        if existing is not None:
            if uuid != existing.UUIDString():
                raise libvirt_error(libvirt.VIR_ERR_OPERATION_FAILED, "operation failed: filter '%s' already exists "
                                    "with uuid %s" % (name, existing.UUIDString()))
            existing.xml = xml
            return existing
        self.nwfilters[name] = FakeNWFilter(self, xml, uuid or self._new_uuid())
        return self.nwfilters[name]

    def getDomainCapabilities(self, emulator, arch, machine, virttype, flags=0):
        if virttype == "kvm" and not self.kvm_capable:
            raise libvirt_error(libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "unsupported configuration: kvm")
        return "<domainCapabilities/>"

    def close(self):
        return 0

    def snapshot(self):
        """Everything the connection holds, to assert that a run changed nothing."""
        return (copy.deepcopy({name: (d.xml, d.state_code, d.autostart_flag) for name, d in self.domains.items()}),
                copy.deepcopy({name: (f.xml, f.UUIDString()) for name, f in self.nwfilters.items()}))


class FakeClock:
    """monotonic() and sleep() for waits: sleeping moves the clock, nothing really waits."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
