"""Instance specs: defaults as Nova laid them out, and bad input refused with its value named."""

import os

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.virt.instance_spec import parse_instances
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_samples import (
    SEED_NAME, make_instance, seed_vif)


def parse(instances_path, *raws):
    return parse_instances(list(raws), str(instances_path), with_definition=True)


def test_defaults_follow_nova_layout(instances_path):
    [spec] = parse(instances_path, make_instance(instances_path))
    base = os.path.join(str(instances_path), SEED_NAME)
    assert spec.instance_dir == base
    assert (spec.disk, spec.kernel, spec.ramdisk) == tuple(os.path.join(base, f) for f in ("disk", "kernel", "ramdisk"))
    assert spec.cmdline == "root=/dev/vda console=ttyS0"
    assert spec.libvirt_xml_path == os.path.join(base, "libvirt.xml")
    assert (spec.memory_mb, spec.vcpus, spec.disk_format) == (512, 1, "qcow2")
    assert [vif.mac for vif in spec.vifs] == ["fa:16:3e:47:ef:94"]


def test_removal_states_need_only_a_name(instances_path):
    [spec] = parse_instances([{"name": "instance-0000beef"}], str(instances_path), with_definition=False)
    assert spec.instance_dir == os.path.join(str(instances_path), "instance-0000beef")


@pytest.mark.parametrize("change, message", [
    ({"flavor": {"memory_mb": 512, "vcpus": 1, "colour": "red"}}, "unknown field.*colour"),
    ({"flavor": {"memory_mb": 8, "vcpus": 1}}, "memory_mb 8: expected a whole number from 16"),
    ({"flavor": {"memory_mb": "512", "vcpus": 1}}, "memory_mb '512'"),
    ({"flavor": {"memory_mb": 512, "vcpus": 0}}, "vcpus 0: expected a whole number from 1 to 255"),
    ({"flavor": {"memory_mb": 512, "vcpus": 256}}, "vcpus 256"),
    ({"flavor": {"memory_mb": 512, "vcpus": True}}, "vcpus True"),
    ({"flavor": None}, "flavor: expected a mapping"),
    ({"kernel": "/nonexistent/kernel"}, "kernel /nonexistent/kernel: no such file"),
    ({"disk": "/nonexistent/disk"}, "disk /nonexistent/disk: no such file"),
    ({"disk": "relative/disk"}, "expected an absolute path"),
    ({"config_drive": "/nonexistent/disk.config"}, "config_drive /nonexistent/disk.config: no such file"),
    ({"kernel_id": None, "ramdisk_id": "ari-1"}, "a ramdisk or cmdline needs a kernel"),
    ({"display_name": "two\nlines"}, "display_name 'two\\\\nlines': expected text on one line"),
    ({"disk_format": "vmdk"}, "disk_format 'vmdk': expected one of qcow2, raw"),
    ({"uuid": "not-a-uuid"}, "uuid 'not-a-uuid': expected a UUID"),
    ({"name": "../etc"}, "name '../etc': expected"),
    ({"name": "a b"}, "name 'a b'"),
    ({"colour": "red"}, "instances\\[0\\]: unknown field.*colour"),
    ({"network_info": [seed_vif(mac="01:16:3e:00:00:01")]}, "not unicast|expected a unicast MAC"),
    ({"network_info": [seed_vif(mac="fa:16:3e:zz:00:01")]}, "address 'fa:16:3e:zz:00:01': expected a MAC"),
    ({"network_info": [seed_vif(address="10.2.0.4")]}, "fixed IP 10.2.0.4: expected an address inside"),
    ({"network_info": [seed_vif(bridge="br 100")]}, "bridge 'br 100': expected a Linux interface name"),
    ({"network_info": [seed_vif(dhcp_server="10.1")]}, "dhcp_server '10.1': expected an IPv4 address"),
    ({"network_info": [seed_vif(), seed_vif()]}, "MAC address fa:16:3e:47:ef:94 appears twice"),
    ({"network_info": "br100"}, "network_info: expected a list"),
])
def test_bad_input_names_the_value(instances_path, change, message):
    raw = make_instance(instances_path)
    raw.update(change)
    with pytest.raises(InvalidInput, match=message):
        parse(instances_path, raw)


def test_duplicate_names_and_uuids_are_refused(instances_path):
    raw = make_instance(instances_path)
    with pytest.raises(InvalidInput, match="name instance-00000002 appears twice"):
        parse(instances_path, raw, dict(raw, uuid=None))
    other = make_instance(instances_path, name="instance-00000003", network_info=[])
    with pytest.raises(InvalidInput, match="uuid .* appears twice"):
        parse(instances_path, raw, other)


def test_nova_flavor_fields_are_accepted(instances_path):
    raw = make_instance(instances_path)
    raw["flavor"].update(root_gb=1, ephemeral_gb=0, swap=0, rxtx_factor=1.0)
    assert parse(instances_path, raw)[0].memory_mb == 512


def test_ansible_fills_unset_suboptions_with_none(instances_path):
    raw = make_instance(instances_path, cmdline=None, config_drive=None, instance_dir=None, disk=None)
    [spec] = parse(instances_path, raw)
    assert spec.config_drive is None and spec.cmdline == "root=/dev/vda console=ttyS0"


def test_config_drive_true_means_disk_config(instances_path):
    raw = make_instance(instances_path, config_drive=True)
    with open(os.path.join(str(instances_path), SEED_NAME, "disk.config"), "wb") as iso:
        iso.write(b"iso")
    assert parse(instances_path, raw)[0].config_drive.endswith("/disk.config")
