# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""From a guest spec and its VIFs to the wanted guest config: Nova's ``to_xml`` and ``designer.py``.

A guest spec (``GuestSpec``) is the part of the instance record libvirt_domain needs, plus optional paths,
checked before anything runs. Paths default as Nova's libvirt driver laid out
``<instances_path>/<name>/`` (``common/instance_dir.py``): ``disk``, ``kernel`` and ``ramdisk``
(when the image has a kernel_id/ramdisk_id, i.e. is AMI-style), ``disk.config`` and
``console.log``.

The policy lives here (which devices a guest gets, and with what values); the classes of
``config.py`` only format and parse. The checks of one VIF and of a flavor are plain functions
free of libvirt and Ansible, so the controller's request step can apply the same rules.
"""

from __future__ import annotations

import functools
import os

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import INSTANCE_FILES, instance_dir
from ansible_collections.novalite.compute.plugins.module_utils.virt.config import (
    FilterRefConfig, GuestConfig, GuestDisk, GuestGraphics, GuestInput, GuestInterface, GuestSerial, GuestVideo)
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter import instance_filter_name

INSTANCE_FIELDS = ("name", "uuid", "display_name", "flavor", "kernel_id", "ramdisk_id", "instance_dir", "disk",
                   "disk_format", "kernel", "ramdisk", "cmdline", "config_drive", "network_info")
# Nova's instance_types columns; only memory_mb and vcpus shape the domain.
FLAVOR_FIELDS = ("memory_mb", "vcpus", "id", "flavorid", "name", "root_gb", "ephemeral_gb", "swap",
                 "rxtx_factor", "is_public", "disabled", "vcpu_weight", "extra_specs")
MEMORY_MB_RANGE = (16, 16 * 1024 * 1024)
VCPUS_RANGE = (1, 255)  # what QEMU's pc machine takes
DISK_FORMATS = ("qcow2", "raw")
DEFAULT_CMDLINE = "root=/dev/vda console=ttyS0"


# --- the guest spec ---------------------------------------------------------------------------

class GuestSpec:
    """What libvirt_domain builds one guest from (``parse_instance``), and its instance directory's files."""

    def __init__(self, name, uuid=None, directory=None):
        self.name = name
        # files, bridges and filters taken as made by earlier steps (check mode with assume_prepared)
        self.assumed = []
        self.uuid = uuid
        self.instance_dir = directory
        self.display_name = None
        self.memory_mb = None
        self.vcpus = None
        self.disk = None
        self.disk_format = "qcow2"
        self.kernel = None
        self.ramdisk = None
        self.cmdline = None
        self.config_drive = None
        self.vifs = []

    def file(self, key):
        """The path of the instance directory's file ``key`` (``common/instance_dir.INSTANCE_FILES``)."""
        return os.path.join(self.instance_dir, INSTANCE_FILES[key])


def parse_instances(raw_instances, instances_path, with_definition, assume_files=False):
    """``assume_files``: a missing disk, kernel, ramdisk or config drive is taken as one an earlier
    step would make (check mode of a whole run); it is listed in the spec's ``assumed``."""
    specs = [parse_instance(raw, index, instances_path, with_definition, assume_files)
             for index, raw in enumerate(validate.sequence(raw_instances, "instances"))]
    validate.reject_duplicates([spec.name for spec in specs], "instances: name")
    validate.reject_duplicates([spec.uuid for spec in specs if spec.uuid], "instances: uuid")
    validate.reject_duplicates([vif.mac for spec in specs for vif in spec.vifs], "instances: MAC address")
    return specs


def parse_instance(raw, index, instances_path, with_definition, assume_files=False):
    """The spec of ``instances[index]``; the definition's fields only when it will be defined."""
    fields = validate.mapping(raw, "instances[%d]" % index)
    validate.reject_unknown(fields, INSTANCE_FIELDS, "instances[%d]" % index)
    name = validate.instance_name(fields.get("name"), "instances[%d] name" % index)
    what = "instance %s" % name
    uuid = validate.uuid(fields["uuid"], what + " uuid") if fields.get("uuid") else None
    directory = fields.get("instance_dir")
    directory = (validate.absolute_path(directory, what + " instance_dir") if directory
                 else instance_dir(instances_path, name))
    spec = GuestSpec(name, uuid, directory)
    if with_definition:
        _parse_definition(spec, fields, what, assume_files)
    return spec


def _parse_definition(spec, fields, what, assume_files=False):
    display_name = fields.get("display_name")
    spec.display_name = validate.display_name(display_name, what + " display_name") if display_name else None
    spec.memory_mb, spec.vcpus = parse_flavor(fields.get("flavor"), what + " flavor")
    spec.disk_format = validate.choice(fields.get("disk_format") or "qcow2", DISK_FORMATS, what + " disk_format")
    existing = functools.partial(_existing_file, assumed=spec.assumed if assume_files else None)
    spec.disk = existing(fields.get("disk") or spec.file("disk"), what + " disk")
    _parse_boot(spec, fields, what, existing)
    spec.config_drive = _config_drive(spec, fields.get("config_drive"), what, existing)
    spec.vifs = parse_network_info(fields.get("network_info"), what + " network_info")


def parse_flavor(raw, what):
    """``(memory_mb, vcpus)`` of a flavor; Nova's other flavor fields are accepted and ignored."""
    flavor = validate.mapping(raw, what)
    validate.reject_unknown(flavor, FLAVOR_FIELDS, what)
    return (validate.whole_number(flavor.get("memory_mb"), what + " memory_mb", *MEMORY_MB_RANGE),
            validate.whole_number(flavor.get("vcpus"), what + " vcpus", *VCPUS_RANGE))


def _parse_boot(spec, fields, what, existing):
    """Kernel boot for AMI-style images (kernel_id set, or a kernel path given), else disk boot."""
    kernel = fields.get("kernel") or (spec.file("kernel") if fields.get("kernel_id") else None)
    ramdisk = fields.get("ramdisk") or (spec.file("ramdisk") if fields.get("ramdisk_id") else None)
    cmdline = fields.get("cmdline")
    if not kernel and (ramdisk or cmdline):
        raise InvalidInput("%s: a ramdisk or cmdline needs a kernel (give kernel or kernel_id)" % what)
    if kernel:
        spec.kernel = existing(kernel, what + " kernel")
        spec.ramdisk = existing(ramdisk, what + " ramdisk") if ramdisk else None
        spec.cmdline = validate.one_line(cmdline, what + " cmdline") if cmdline else DEFAULT_CMDLINE


def _config_drive(spec, value, what, existing):
    """A path, or true for Nova's ``<instance dir>/disk.config``; false or empty for none."""
    if value is None or value is False or value == "":
        return None
    path = spec.file("config_drive") if value is True else value
    return existing(path, what + " config_drive")


def _existing_file(path, what, assumed=None):
    """The image and config drive steps make these files: they must be there before the domain.

    With ``assumed`` (a list) a missing file is added to it instead of refused.
    """
    path = validate.absolute_path(path, what)
    if not os.path.isfile(path) and assumed is not None and not os.path.lexists(path):
        assumed.append(path)
    elif not os.path.isfile(path):
        raise InvalidInput("%s %s: no such file on this host (expected it to be created before the domain)"
                           % (what, path))
    return path


# --- VIFs: network_info entries ---------------------------------------------------------------
# ``{id, address, network: {id, label, bridge, subnets: [{cidr, ips: [{address}], gateway, dns,
# meta: {dhcp_server}}], meta}}``, as nova_network returns it. Keys that are not used here are
# ignored (network_info carries many); the ones used are checked. Subnets without a cidr (the
# empty IPv6 one) and IPv6 subnets are skipped: Nova's filter parameters are IPv4.

class Vif:
    """One VIF, reduced to what the domain interface and its filter need."""

    def __init__(self, mac, bridge, address=None, network=None, dhcp_server=None, vif_id=None):
        self.mac = mac
        self.bridge = bridge
        self.address = address  # the fixed IPv4 address, as a string
        self.network = network  # netaddr.IPNetwork of its subnet
        self.dhcp_server = dhcp_server
        self.vif_id = vif_id

    def filter_name(self, instance_name):
        return instance_filter_name(instance_name, self.mac)

    def filter_parameters(self):
        """Nova's IP, DHCPSERVER, PROJNET and PROJMASK, those that network_info gives."""
        parameters = {}
        if self.address:
            parameters["IP"] = self.address
        if self.dhcp_server:
            parameters["DHCPSERVER"] = self.dhcp_server
        if self.network is not None:
            parameters["PROJNET"] = str(self.network.network)
            parameters["PROJMASK"] = str(self.network.netmask)
        return parameters


def parse_network_info(raw, what):
    return [parse_vif(vif, "%s[%d]" % (what, index)) for index, vif in enumerate(validate.sequence(raw, what))]


def parse_vif(raw, what):
    vif = validate.mapping(raw, what)
    mac = validate.mac_address(vif.get("address"), "%s address" % what)
    network = validate.mapping(vif.get("network"), "%s network" % what)
    bridge = validate.device_name(network.get("bridge"), "%s network bridge" % what)
    result = Vif(mac, bridge, vif_id=vif.get("id"))
    for index, subnet in enumerate(validate.sequence(network.get("subnets"), "%s network subnets" % what)):
        where = "%s subnet %d" % (what, index)
        _take_subnet(result, validate.mapping(subnet, where), where)
    return result


def _take_subnet(vif, subnet, what):
    """Fill the VIF from the first IPv4 subnet that has a fixed IP."""
    cidr = subnet.get("cidr")
    if vif.address or not cidr or ":" in str(cidr):
        return
    network = validate.ipv4_network(cidr, "%s cidr" % what)
    ips = validate.sequence(subnet.get("ips"), "%s ips" % what)
    if not ips:
        return
    first = ips[0].get("address") if isinstance(ips[0], dict) else ips[0]
    address = validate.ipv4_address(first, "%s fixed IP" % what)
    if address not in network:
        raise InvalidInput("%s fixed IP %s: expected an address inside its subnet %s" % (what, address, network))
    dhcp_server = validate.mapping(subnet.get("meta") or {}, "%s meta" % what).get("dhcp_server")
    vif.address = str(address)
    vif.network = network
    vif.dhcp_server = validate.optional_ipv4_address(dhcp_server, "%s meta.dhcp_server" % what)


# --- the wanted guest config ------------------------------------------------------------------

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
        GuestSerial("file", spec.file("console_log")),  # the console Nova keeps in console.log
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
    # The parameters ride on the interface's filterref (Nova's libvirt VIF driver put them
    # there) and reach every filter that nova-instance-... references.
    filterref = FilterRefConfig(vif.filter_name(instance_name), vif.filter_parameters())
    return GuestInterface(mac=vif.mac, bridge=vif.bridge, model="virtio", filterref=filterref)
