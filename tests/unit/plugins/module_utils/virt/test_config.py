"""The XML classes: escaping, and reading back libvirt's normalised echo of a domain and of a filter."""

import pytest
from lxml import etree

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

from ansible_collections.novalite.compute.plugins.module_utils.virt.config import FilterConfig, GuestConfig
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter import default_group
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_samples import (
    make_instance, sample_guest)

# What libvirt 9.0 / QEMU 7.2 printed (XMLDesc, inactive) for a definition of this shape on a
# sandbox host, with the instance directory replaced by {dir}.
LIBVIRT_ECHO = """<domain type='qemu'>
  <name>instance-00000002</name>
  <uuid>b110ed3b-9cc3-4d30-b433-a71090166b2c</uuid>
  <title>my vm</title>
  <memory unit='KiB'>524288</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>{dir}/kernel</kernel>
    <initrd>{dir}/ramdisk</initrd>
    <cmdline>root=/dev/vda console=ttyS0</cmdline>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
  </features>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>qemu64</model>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='writeback'/>
      <source file='{dir}/disk'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='{dir}/disk.config'/>
      <target dev='hdb' bus='ide'/>
      <readonly/>
      <address type='drive' controller='0' bus='0' target='0' unit='1'/>
    </disk>
    <controller type='usb' index='0' model='piix3-uhci'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>
    </controller>
    <controller type='pci' index='0' model='pci-root'/>
    <controller type='ide' index='0'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x1'/>
    </controller>
    <interface type='bridge'>
      <mac address='fa:16:3e:47:ef:94'/>
      <source bridge='br100'/>
      <model type='virtio'/>
      <filterref filter='nova-instance-instance-00000002-fa163e47ef94'>
        <parameter name='DHCPSERVER' value='10.1.0.3'/>
        <parameter name='IP' value='10.1.0.4'/>
        <parameter name='PROJMASK' value='255.255.0.0'/>
        <parameter name='PROJNET' value='10.1.0.0'/>
      </filterref>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </interface>
    <serial type='file'>
      <source path='{dir}/console.log'/>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
    </serial>
    <serial type='pty'>
      <target type='isa-serial' port='1'>
        <model name='isa-serial'/>
      </target>
    </serial>
    <console type='file'>
      <source path='{dir}/console.log'/>
      <target type='serial' port='0'/>
    </console>
    <input type='tablet' bus='usb'>
      <address type='usb' bus='0' port='1'/>
    </input>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' keymap='en-us'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <audio id='1' type='none'/>
    <video>
      <model type='vga' vram='16384' heads='1' primary='yes'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </video>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </memballoon>
  </devices>
</domain>
"""


def test_display_name_is_escaped_never_injected(instances_path):
    _spec, guest = sample_guest(instances_path, display_name="<x>&\"'</title><evil/>")
    xml = guest.to_xml()
    domain = etree.fromstring(xml)
    assert domain.findtext("title") == "<x>&\"'</title><evil/>"
    assert domain.find(".//evil") is None
    assert GuestConfig.parse_str(xml).title == "<x>&\"'</title><evil/>"


def test_libvirt_echo_reads_back_as_the_wanted_definition(instances_path):
    make_instance(instances_path)
    _touch(str(instances_path / "instance-00000002" / "disk.config"))
    spec, guest = sample_guest(instances_path, config_drive=True)
    echo = GuestConfig.parse_str(LIBVIRT_ECHO.replace("{dir}", spec.instance_dir))
    assert echo.to_xml() == guest.to_xml()


def test_a_real_difference_survives_the_normalisation(instances_path):
    spec, guest = sample_guest(instances_path)
    echo = LIBVIRT_ECHO.replace("{dir}", spec.instance_dir).replace("524288", "1048576")
    assert GuestConfig.parse_str(echo).to_xml() != guest.to_xml()


def test_memory_units_are_read_as_kib():
    for unit, value in (("KiB", "524288"), ("MiB", "512"), ("GiB", "0"), ("bytes", "536870912")):
        domain = GuestConfig.parse_str("<domain type='qemu'><memory unit='%s'>%s</memory></domain>" % (unit, value))
        assert domain.memory_kib == {"GiB": 0}.get(unit, 524288)


def test_unparsable_xml_is_a_clear_error():
    with pytest.raises(NovaliteError, match="cannot read <domain> XML"):
        GuestConfig.parse_str("<domain")
    with pytest.raises(NovaliteError, match="expected <domain>, found <filter>"):
        GuestConfig.parse_str("<filter/>")


def test_libvirt_echo_of_a_filter_parses_back_equal():
    config = default_group().filter_config()
    echo = """<filter name='nova-secgroup-default' chain='root'>
      <uuid>ca8b0943-e452-4d6f-b003-e9774b197810</uuid>
      <rule action='accept' direction='in' priority='500'><icmp/></rule>
      <rule action='accept' direction='in' priority='500'><tcp dstportstart='0x16'/></rule>
      <rule action='accept' direction='in' priority='500'><tcp dstportstart='80'/></rule>
    </filter>"""
    assert FilterConfig.parse_str(echo).to_xml() == config.to_xml()


def _touch(path):
    with open(path, "wb") as handle:
        handle.write(b"iso")
