"""libvirt_domain on a real libvirtd with real TCG guests (the test image, AMI-style).

Each guest's files are laid out as the image step leaves them (qcow2 overlay, kernel, ramdisk,
config drive), br100 and a static-mode dnsmasq serve the network, and the nwfilter module
defines the filters the domains reference.
"""

import os
import re
import time

import pytest
from lxml import etree

from guests import wait_for_console
from sandbox_ansible import run_module
from virt_instances import domain_names, inactive_xml, prepare_instance

from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_samples import sample_vif

GUEST = ("instance-00000531", "fa:16:3e:05:00:31", "10.1.0.31")
BATCH = [("instance-0000053%d" % n, "fa:16:3e:05:00:3%d" % n, "10.1.0.3%d" % n) for n in (2, 3, 4)]
BROKEN = ("instance-00000539", "fa:16:3e:05:00:39", "10.1.0.39")
SECOND_NIC = ("fa:16:3e:05:00:3a", "10.1.0.58")
GUESTS = [GUEST, BROKEN] + BATCH  # served by the host fixture (conftest.py)
BOOT_TIMEOUT = 600
TRICKY_NAME = "<x>&\"'"


def domain_args(instances, **options):
    return dict({"instances": instances, "wait_timeout": BOOT_TIMEOUT}, **options)


@pytest.fixture(scope="module", autouse=True)
def instance_filters(sandbox, host):
    """The filters the guests' domains reference (the host fixture removes them afterwards)."""
    filters = run_module(sandbox, host.name, "nwfilter", {"base_filters": True, "instance_filters": [
        {"instance_name": name, "mac": mac} for name, mac, _ip in GUESTS]})
    assert not filters["failed"], filters.get("msg")


@pytest.fixture(scope="module")
def guest_spec(host, guest_image):
    name, mac, ip = GUEST
    return prepare_instance(host, guest_image, name, mac, ip, display_name=TRICKY_NAME)


def test_define_check_real_then_idempotent(sandbox, host, guest_spec):
    args = domain_args([guest_spec], state="present")
    before = domain_names(host)
    checked = run_module(sandbox, host.name, "libvirt_domain", args, check=True, diff=True)
    assert checked["changed"] and checked["instances"][0]["changes"] == ["define", "write libvirt.xml"]
    assert "<title>&lt;x&gt;&amp;\"'</title>" in checked["diff"][0]["after"]
    assert domain_names(host) == before
    assert not (host.instance_dir(GUEST[0]) / "libvirt.xml").exists()

    applied = run_module(sandbox, host.name, "libvirt_domain", args)
    assert applied["changed"] and applied["instances"][0]["state"] == "shutoff"
    if not _cpu_has_hardware_virtualization():
        assert applied["virt_type"] == "qemu" and "vmx/svm" in applied["virt_type_reason"]
    definition = applied["instances"][0]["definition"]
    assert (host.instance_dir(GUEST[0]) / "libvirt.xml").read_text() == definition
    domain = etree.fromstring(inactive_xml(host, GUEST[0]).encode())
    assert domain.findtext("title") == TRICKY_NAME
    assert domain.findtext("uuid") == guest_spec["uuid"]
    assert (domain.get("type"), domain.findtext("memory"), domain.findtext("vcpu")) == ("qemu", "262144", "1")
    assert domain.find("devices/graphics").get("listen") == "127.0.0.1"
    assert domain.find("devices/interface/filterref").get("filter") == "nova-instance-%s-fa163e050031" % GUEST[0]

    for check in (True, False):
        again = run_module(sandbox, host.name, "libvirt_domain", args, check=check, diff=True)
        assert again["changed"] is False, again["instances"][0]["changes"]
        assert again["diff"] == []


def test_flavor_and_nic_changes_show_a_diff_and_redefine(sandbox, host, guest_spec):
    run_module(sandbox, host.name, "libvirt_domain", domain_args([guest_spec], state="present"))
    bigger = dict(guest_spec, flavor=dict(guest_spec["flavor"], memory_mb=512, vcpus=2))
    checked = run_module(sandbox, host.name, "libvirt_domain", domain_args([bigger], state="present"),
                         check=True, diff=True)
    assert checked["instances"][0]["changes"] == ["redefine", "write libvirt.xml"]
    definition_diff = checked["diff"][0]
    assert "<memory>262144</memory>" in definition_diff["before"] and "<vcpu>1</vcpu>" in definition_diff["before"]
    assert "<memory>524288</memory>" in definition_diff["after"] and "<vcpu>2</vcpu>" in definition_diff["after"]
    assert etree.fromstring(inactive_xml(host, GUEST[0]).encode()).findtext("memory") == "262144"

    applied = run_module(sandbox, host.name, "libvirt_domain", domain_args([bigger], state="present"))
    assert applied["changed"] and applied["instances"][0]["uuid"] == guest_spec["uuid"]
    assert etree.fromstring(inactive_xml(host, GUEST[0]).encode()).findtext("memory") == "524288"

    two_nics = dict(guest_spec, network_info=guest_spec["network_info"] + [
        sample_vif(mac=SECOND_NIC[0], address=SECOND_NIC[1], dhcp_server="10.1.0.3")])
    nic = run_module(sandbox, host.name, "libvirt_domain", domain_args([two_nics], state="present"), diff=True)
    assert SECOND_NIC[0] in nic["diff"][0]["after"] and SECOND_NIC[0] not in nic["diff"][0]["before"]
    assert len(etree.fromstring(inactive_xml(host, GUEST[0]).encode()).findall("devices/interface")) == 2

    back = run_module(sandbox, host.name, "libvirt_domain", domain_args([guest_spec], state="present"))
    assert back["instances"][0]["changes"] == ["redefine", "write libvirt.xml"]


@pytest.mark.parametrize("change, message", [
    ({"flavor": {"memory_mb": 256, "vcpus": 1, "colour": "red"}}, "colour"),
    ({"flavor": {"memory_mb": 8, "vcpus": 1}}, "memory_mb 8"),
    ({"flavor": {"memory_mb": 256, "vcpus": 0}}, "vcpus 0"),
    ({"kernel": "/var/lib/novalite/instances/nowhere/kernel"}, "kernel /var/lib/novalite/instances/nowhere/kernel"),
    ({"network_info": [sample_vif(mac="01:00:5e:00:00:01")]}, "unicast"),
    ({"name": "instance-0000053f", "uuid": None, "instance_dir": "/var/lib/novalite/instances/" + GUEST[0]},
     "nwfilter nova-instance-instance-0000053f-fa163e050031 is not defined"),
])
def test_bad_input_changes_nothing(sandbox, host, guest_spec, change, message):
    before = domain_names(host)
    result = run_module(sandbox, host.name, "libvirt_domain",
                        domain_args([dict(guest_spec, **change)], state="running"))
    assert result["failed"] and message in result["msg"]
    assert domain_names(host) == before


def test_boot_wait_shutdown_destroy_and_remove(sandbox, host, guest_spec):
    name, mac, ip = GUEST
    started = time.monotonic()
    running = run_module(sandbox, host.name, "libvirt_domain", domain_args([guest_spec], state="running",
                                                                           wait_for="lease"))
    lease_seconds = time.monotonic() - started
    assert not running["failed"], running.get("msg")
    assert running["instances"][0]["state"] == "running"
    assert running["instances"][0]["addresses"] == [{"mac": mac, "address": ip}]
    console = host.instance_dir(name) / "console.log"
    wait_for_console(console, r"(?m)^lease %s %s\r?$" % (re.escape(ip), mac), timeout=60)

    port = run_module(sandbox, host.name, "libvirt_domain", domain_args([guest_spec], state="running",
                                                                        wait_for="port", wait_port=80))
    assert port["changed"] is False and not port["failed"]
    wait_for_console(console, r"(?m)^novalite-guest ready\r?$", timeout=60)

    stopped = run_module(sandbox, host.name, "libvirt_domain", {"instances": [{"name": name}], "state": "shutdown",
                                                                "shutdown_timeout": 120})
    assert stopped["instances"][0]["changes"] == ["shutdown"] and stopped["instances"][0]["state"] == "shutoff"
    assert "novalite-guest acpi power button: powering off" in console.read_text(errors="replace")
    assert run_module(sandbox, host.name, "libvirt_domain", {"instances": [{"name": name}],
                                                             "state": "shutdown"})["changed"] is False

    run_module(sandbox, host.name, "libvirt_domain", domain_args([guest_spec], state="running"))
    destroyed = run_module(sandbox, host.name, "libvirt_domain", {"instances": [{"name": name}], "state": "destroyed"})
    assert destroyed["instances"][0]["changes"] == ["destroy"]

    removal = {"instances": [{"name": name}], "state": "absent", "remove_instance_dir": True}
    removed = run_module(sandbox, host.name, "libvirt_domain", removal)
    assert removed["instances"][0]["changes"] == ["undefine", "remove instance dir"]
    assert name not in domain_names(host) and not host.instance_dir(name).exists()
    assert run_module(sandbox, host.name, "libvirt_domain", removal)["changed"] is False
    print("\nstart to lease seen (one guest, module call included): %.1fs" % lease_seconds)


def test_batch_defines_and_boots_several_guests_in_one_call(sandbox, host, guest_image):
    specs = [prepare_instance(host, guest_image, name, mac, ip) for name, mac, ip in BATCH]
    started = time.monotonic()
    result = run_module(sandbox, host.name, "libvirt_domain", domain_args(specs, state="running", wait_for="lease"))
    elapsed = time.monotonic() - started
    assert not result["failed"], result.get("msg")
    assert [i["addresses"] for i in result["instances"]] == [[{"mac": mac, "address": ip}] for _n, mac, ip in BATCH]
    names = [{"name": name} for name, _mac, _ip in BATCH]
    again = run_module(sandbox, host.name, "libvirt_domain", domain_args(specs, state="running"))
    assert again["changed"] is False
    removed = run_module(sandbox, host.name, "libvirt_domain", {"instances": names, "state": "absent",
                                                                "remove_instance_dir": True})
    assert [i["state"] for i in removed["instances"]] == ["absent"] * 3
    assert not set(n["name"] for n in names) & set(domain_names(host))
    print("\n%d guests defined, started and leased in one call: %.1fs" % (len(BATCH), elapsed))


def test_failed_start_undefines_and_reports_libvirt_and_qemu(sandbox, host, guest_image):
    name, mac, ip = BROKEN
    spec = prepare_instance(host, guest_image, name, mac, ip)
    with open(host.instance_dir(name) / "disk", "wb") as disk:  # not qcow2, as a broken image would be
        disk.write(b"\0" * 1048576)
    result = run_module(sandbox, host.name, "libvirt_domain", domain_args([spec], state="running"))
    assert result["failed"] and result["failed_step"] == "starting %s" % name
    assert "undefine %s" % name in result["rolled_back"] and result["rollback_failures"] == []
    assert result["msg"].startswith("starting %s: " % name)
    assert "last lines of the QEMU log" in result["msg"] and "qcow2" in result["msg"]
    assert name not in domain_names(host)
    assert not (host.instance_dir(name) / "libvirt.xml").exists()


def _cpu_has_hardware_virtualization():
    with open("/proc/cpuinfo") as cpuinfo:
        flags = set(next((line for line in cpuinfo if line.startswith("flags")), "").split())
    return bool(flags & {"vmx", "svm"}) and os.path.exists("/dev/kvm")
