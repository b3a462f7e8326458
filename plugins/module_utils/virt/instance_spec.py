# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An instance spec (a subset of the instance record plus paths), checked before anything runs.

Paths default as Nova laid out ``<instances_path>/<name>/``: ``disk``, ``kernel`` and
``ramdisk`` (when the image has a kernel_id/ramdisk_id, i.e. is AMI-style), ``disk.config``
and ``console.log``.
"""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.compute.config_drive import CONFIG_DRIVE_NAME
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import INSTANCE_FILES
from ansible_collections.novalite.compute.plugins.module_utils.virt.checks import (
    mapping, one_line, reject_duplicates, reject_unknown, sequence, whole_number)
from ansible_collections.novalite.compute.plugins.module_utils.virt.names import canonical_uuid, safe_name
from ansible_collections.novalite.compute.plugins.module_utils.virt.vif import parse_vif

INSTANCE_FIELDS = ("name", "uuid", "display_name", "flavor", "kernel_id", "ramdisk_id", "instance_dir", "disk",
                   "disk_format", "kernel", "ramdisk", "cmdline", "config_drive", "network_info")
# Nova's instance_types columns; only memory_mb and vcpus shape the domain.
FLAVOR_FIELDS = ("memory_mb", "vcpus", "id", "flavorid", "name", "root_gb", "ephemeral_gb", "swap",
                 "rxtx_factor", "is_public", "disabled", "vcpu_weight", "extra_specs")
MEMORY_MB_RANGE = (16, 16 * 1024 * 1024)
VCPUS_RANGE = (1, 255)  # what QEMU's pc machine takes
DISK_FORMATS = ("qcow2", "raw")
DEFAULT_CMDLINE = "root=/dev/vda console=ttyS0"


class InstanceSpec:
    def __init__(self, name, uuid=None, instance_dir=None):
        self.name = name
        self.uuid = uuid
        self.instance_dir = instance_dir
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

    def path(self, filename):
        return os.path.join(self.instance_dir, filename)

    @property
    def libvirt_xml_path(self):
        return self.path("libvirt.xml")

    @property
    def console_log_path(self):
        return self.path(INSTANCE_FILES["console_log"])


def parse_instances(raw_instances, instances_path, with_definition):
    specs = [parse_instance(raw, index, instances_path, with_definition)
             for index, raw in enumerate(sequence(raw_instances, "instances"))]
    reject_duplicates([spec.name for spec in specs], "instances: name")
    reject_duplicates([spec.uuid for spec in specs if spec.uuid], "instances: uuid")
    reject_duplicates([vif.mac for spec in specs for vif in spec.vifs], "instances: MAC address")
    return specs


def parse_instance(raw, index, instances_path, with_definition):
    """The spec of ``instances[index]``; the definition's fields only when it will be defined."""
    fields = mapping(raw, "instances[%d]" % index)
    reject_unknown(fields, INSTANCE_FIELDS, "instances[%d]" % index)
    name = safe_name(fields.get("name"), "instances[%d] name" % index)
    what = "instance %s" % name
    uuid = canonical_uuid(fields["uuid"], what + " uuid") if fields.get("uuid") else None
    instance_dir = _absolute(fields.get("instance_dir") or os.path.join(instances_path, name), what + " instance_dir")
    spec = InstanceSpec(name, uuid, instance_dir)
    if with_definition:
        _parse_definition(spec, fields, what)
    return spec


def _parse_definition(spec, fields, what):
    spec.display_name = one_line(fields.get("display_name"), what + " display_name")
    flavor = mapping(fields.get("flavor"), what + " flavor")
    reject_unknown(flavor, FLAVOR_FIELDS, what + " flavor")
    spec.memory_mb = whole_number(flavor.get("memory_mb"), MEMORY_MB_RANGE, what + " flavor memory_mb")
    spec.vcpus = whole_number(flavor.get("vcpus"), VCPUS_RANGE, what + " flavor vcpus")
    spec.disk_format = fields.get("disk_format") or "qcow2"
    if spec.disk_format not in DISK_FORMATS:
        raise InvalidInput("%s disk_format %r: expected one of %s" % (what, spec.disk_format, ", ".join(DISK_FORMATS)))
    spec.disk = _existing_file(fields.get("disk") or spec.path(INSTANCE_FILES["disk"]), what + " disk")
    _parse_boot(spec, fields, what)
    spec.config_drive = _config_drive(spec, fields.get("config_drive"), what)
    spec.vifs = [parse_vif(vif, "%s network_info[%d]" % (what, index))
                 for index, vif in enumerate(sequence(fields.get("network_info"), what + " network_info"))]


def _parse_boot(spec, fields, what):
    """Kernel boot for AMI-style images (kernel_id set, or a kernel path given), else disk boot."""
    kernel = fields.get("kernel") or (spec.path(INSTANCE_FILES["kernel"]) if fields.get("kernel_id") else None)
    ramdisk = fields.get("ramdisk") or (spec.path(INSTANCE_FILES["ramdisk"]) if fields.get("ramdisk_id") else None)
    cmdline = fields.get("cmdline")
    if not kernel and (ramdisk or cmdline):
        raise InvalidInput("%s: a ramdisk or cmdline needs a kernel (give kernel or kernel_id)" % what)
    if kernel:
        spec.kernel = _existing_file(kernel, what + " kernel")
        spec.ramdisk = _existing_file(ramdisk, what + " ramdisk") if ramdisk else None
        spec.cmdline = one_line(cmdline, what + " cmdline") if cmdline else DEFAULT_CMDLINE


def _config_drive(spec, value, what):
    """A path, or true for Nova's ``<instance dir>/disk.config``; false or empty for none."""
    if value is None or value is False or value == "":
        return None
    path = spec.path(CONFIG_DRIVE_NAME) if value is True else value
    return _existing_file(path, what + " config_drive")


def _absolute(path, what):
    if not isinstance(path, str) or not os.path.isabs(path):
        raise InvalidInput("%s %r: expected an absolute path" % (what, path))
    return os.path.normpath(path)


def _existing_file(path, what):
    path = _absolute(path, what)
    if not os.path.isfile(path):
        raise InvalidInput("%s %s: no such file on this host (expected it to be created before the domain)"
                           % (what, path))
    return path
