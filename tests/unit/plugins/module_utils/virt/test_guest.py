"""Instance specs and their VIFs to the wanted guest config: defaults as Nova laid them out, Nova's shape,
and bad input refused with its value named."""

import os

import pytest
from lxml import etree

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.virt.guest import parse_instances, parse_vif
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_samples import (
    SAMPLE_NAME, make_instance, sample_guest, sample_vif)


def parse(instances_path, *raws):
    return parse_instances(list(raws), str(instances_path), with_definition=True)


def test_defaults_follow_nova_layout(instances_path):
    [spec] = parse(instances_path, make_instance(instances_path))
    base = os.path.join(str(instances_path), SAMPLE_NAME)
    assert spec.instance_dir == base
    assert (spec.disk, spec.kernel, spec.ramdisk) == tuple(os.path.join(base, f) for f in ("disk", "kernel", "ramdisk"))
    assert spec.cmdline == "root=/dev/vda console=ttyS0"
    assert spec.file("libvirt_xml") == os.path.join(base, "libvirt.xml")
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
    ({"network_info": [sample_vif(mac="01:16:3e:00:00:01")]}, "not unicast|expected a unicast MAC"),
    ({"network_info": [sample_vif(mac="fa:16:3e:zz:00:01")]}, "address 'fa:16:3e:zz:00:01': expected a MAC"),
    ({"network_info": [sample_vif(address="10.2.0.4")]}, "fixed IP 10.2.0.4: expected an address inside"),
    ({"network_info": [sample_vif(bridge="br 100")]}, "bridge 'br 100': expected a network device name"),
    ({"network_info": [sample_vif(dhcp_server="10.1")]}, "dhcp_server '10.1': expected an IPv4 address"),
    ({"network_info": [sample_vif(), sample_vif()]}, "MAC address fa:16:3e:47:ef:94 appears twice"),
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
    with open(os.path.join(str(instances_path), SAMPLE_NAME, "disk.config"), "wb") as iso:
        iso.write(b"iso")
    assert parse(instances_path, raw)[0].config_drive.endswith("/disk.config")


def test_guest_has_novas_shape(instances_path):
    spec, guest = sample_guest(instances_path)
    domain = etree.fromstring(guest.to_xml())
    assert domain.get("type") == "qemu"
    assert domain.findtext("name") == "instance-00000002"
    assert domain.findtext("memory") == "524288"  # KiB, as Nova wrote it
    assert domain.findtext("vcpu") == "1"
    assert domain.findtext("os/kernel") == spec.file("kernel")
    assert domain.findtext("os/initrd") == spec.file("ramdisk")
    assert domain.findtext("os/cmdline") == "root=/dev/vda console=ttyS0"
    assert domain.find("features/acpi") is not None
    assert domain.find("clock").get("offset") == "utc"
    disk = domain.find("devices/disk[@device='disk']")
    assert disk.find("driver").attrib == {"name": "qemu", "type": "qcow2", "cache": "writeback"}
    assert disk.find("target").attrib == {"dev": "vda", "bus": "virtio"}
    interface = domain.find("devices/interface[@type='bridge']")
    assert interface.find("mac").get("address") == "fa:16:3e:47:ef:94"
    assert interface.find("model").get("type") == "virtio"
    assert interface.find("source").get("bridge") == "br100"
    filterref = interface.find("filterref")
    assert filterref.get("filter") == "nova-instance-instance-00000002-fa163e47ef94"
    assert [(p.get("name"), p.get("value")) for p in filterref] == [
        ("IP", "10.1.0.4"), ("DHCPSERVER", "10.1.0.3"), ("PROJNET", "10.1.0.0"), ("PROJMASK", "255.255.0.0")]
    assert [s.get("type") for s in domain.findall("devices/serial")] == ["file", "pty"]
    assert domain.find("devices/serial/source").get("path") == spec.file("console_log")
    assert domain.find("devices/input").attrib == {"type": "tablet", "bus": "usb"}
    assert domain.find("devices/graphics").get("listen") == "127.0.0.1"
    assert domain.find("devices/video/model").get("type") == "vga"


def test_disk_boot_has_no_kernel(instances_path):
    spec, guest = sample_guest(instances_path, kernel_id=None, ramdisk_id=None)
    domain = etree.fromstring(guest.to_xml())
    assert domain.find("os/kernel") is None and domain.find("os/cmdline") is None
    assert domain.findtext("os/type") == "hvm"


def test_sample_vif_gives_nova_filter_parameters():
    vif = parse_vif(sample_vif(), "vif")
    assert (vif.mac, vif.bridge, vif.address) == ("fa:16:3e:47:ef:94", "br100", "10.1.0.4")
    assert vif.filter_parameters() == {"IP": "10.1.0.4", "DHCPSERVER": "10.1.0.3",
                                       "PROJNET": "10.1.0.0", "PROJMASK": "255.255.0.0"}
    assert vif.filter_name("instance-0000000a") == "nova-instance-instance-0000000a-fa163e47ef94"


def test_mac_is_normalised():
    assert parse_vif(sample_vif(mac="FA-16-3E-47-EF-94"), "vif").mac == "fa:16:3e:47:ef:94"


def test_ipv6_and_empty_subnets_are_skipped():
    raw = sample_vif()
    raw["network"]["subnets"].insert(0, {"cidr": "fd00::/64", "ips": [{"address": "fd00::4"}]})
    assert parse_vif(raw, "vif").address == "10.1.0.4"


def test_without_dhcp_server_or_subnet_only_known_parameters():
    raw = sample_vif()
    raw["network"]["subnets"][0]["meta"] = {}
    assert "DHCPSERVER" not in parse_vif(raw, "vif").filter_parameters()
    raw["network"]["subnets"] = []
    assert parse_vif(raw, "vif").filter_parameters() == {}


@pytest.mark.parametrize("value", ["ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01", "00:00:00:00:00:00", "fa:16:3e:47:ef",
                                   "fa:16:3e:47:ef:94:00:01", None, 42])
def test_macs_that_are_not_unicast_eui48_are_refused(value):
    with pytest.raises(InvalidInput, match="MAC"):
        validate.mac_address(value, "mac")


@pytest.mark.parametrize("value", ["10.1.2.3/16", "10.1/16", "10.1.0.0/33", "10.1.0.0", "fd00::/64", "x/8"])
def test_networks_must_be_ipv4_network_addresses(value):
    with pytest.raises(InvalidInput, match="expected an IPv4 network|has host bits set"):
        validate.ipv4_network(value, "cidr")


def test_network_error_suggests_the_network():
    with pytest.raises(InvalidInput, match="host bits set: expected the network address, 10.1.0.0/16"):
        validate.ipv4_network("10.1.2.3/16", "cidr")


def test_vif_needs_a_network_mapping():
    with pytest.raises(InvalidInput, match="network: expected a mapping"):
        parse_vif({"address": "fa:16:3e:47:ef:94"}, "vif")
