"""The libvirt side: virt_type auto, the QEMU log tail, power states, the required libraries, and the names
libvirt and the instance directory can take."""

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.virt import config, connection
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    power_state, qemu_log_tail, require_libraries, resolve_virt_type)
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import FakeConnection


@pytest.fixture
def host(tmp_path):
    device, cpuinfo = tmp_path / "kvm", tmp_path / "cpuinfo"
    device.write_text("")
    return device, cpuinfo


def cpu_flags(cpuinfo, flags):
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu vme %s hypervisor\n\nprocessor\t: 1\n" % flags)


def test_auto_picks_kvm_only_with_device_flag_and_libvirt(host):
    device, cpuinfo = host
    cpu_flags(cpuinfo, "vmx")
    assert resolve_virt_type("auto", FakeConnection(kvm_capable=True), str(device), str(cpuinfo))[0] == "kvm"
    assert resolve_virt_type("auto", FakeConnection(kvm_capable=False), str(device), str(cpuinfo)) == (
        "qemu", "auto: libvirt reports no kvm domain capability")


def test_auto_refuses_paravirtual_kvm_without_vmx_or_svm(host):
    device, cpuinfo = host
    cpu_flags(cpuinfo, "sse2")
    virt_type, reason = resolve_virt_type("auto", FakeConnection(kvm_capable=True), str(device), str(cpuinfo))
    assert virt_type == "qemu" and "no vmx/svm flag" in reason


def test_auto_without_device(host):
    _device, cpuinfo = host
    cpu_flags(cpuinfo, "svm")
    assert "cannot be opened" in resolve_virt_type("auto", FakeConnection(True), "/nonexistent/kvm", str(cpuinfo))[1]


def test_forced_types_are_kept():
    assert resolve_virt_type("kvm", None) == ("kvm", "forced")
    assert resolve_virt_type("qemu", None) == ("qemu", "forced")


def test_qemu_log_tail(tmp_path):
    (tmp_path / "instance-00000002.log").write_text("".join("line %d\n" % n for n in range(100)))
    assert qemu_log_tail("instance-00000002", str(tmp_path), lines=3) == "line 97\nline 98\nline 99"
    assert "no " in qemu_log_tail("instance-00000009", str(tmp_path))


def test_names():
    assert validate.uuid("B110ED3B9CC34D30B433A71090166B2C", "uuid") == "b110ed3b-9cc3-4d30-b433-a71090166b2c"
    for bad in ("", "-x", ".x", "a/b", "a b", "x" * 65, "ä", None):
        with pytest.raises(InvalidInput):
            validate.resource_name(bad, "name")
        with pytest.raises(InvalidInput):
            validate.instance_name(bad, "name")


def test_missing_libraries_are_named_with_their_package(monkeypatch):
    require_libraries()
    monkeypatch.setattr(connection, "libvirt", None)
    monkeypatch.setattr(validate, "HAS_NETADDR", False)
    with pytest.raises(NovaliteError, match=r"missing on this host: python3-libvirt \(libvirt-python\), "
                                            r"python3-netaddr \(netaddr\)"):
        require_libraries()
    monkeypatch.setattr(config, "etree", None)
    with pytest.raises(NovaliteError, match=r"python3-lxml \(lxml\)"):
        require_libraries()


def test_power_states_as_reported():
    conn = FakeConnection()
    domain = conn.defineXML("<domain><name>instance-00000002</name><uuid>u</uuid></domain>")
    assert power_state(domain, "instance-00000002") == "shutoff"
    domain.state_code = 1
    assert power_state(domain, "instance-00000002") == "running"
    domain.state_code = 42
    assert power_state(domain, "instance-00000002") == "nostate"
