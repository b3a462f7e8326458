"""libvirt_domain's service against a fake libvirt: plan once, check mode, idempotence, rollback."""

import os
import threading

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.virt import domain
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain import DomainService
from ansible_collections.novalite.compute.plugins.modules.libvirt_domain import ARGUMENT_SPEC
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import (
    PAUSED, RUNNING, SHUTOFF, FakeDomain, libvirt_error)
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_samples import (
    SAMPLE_NAME, SAMPLE_UUID, make_instance)

FILTER = "nova-instance-instance-00000002-fa163e47ef94"


@pytest.fixture
def sysfs(tmp_path):
    """A /sys/class/net where br100 is a bridge."""
    (tmp_path / "net" / "br100" / "bridge").mkdir(parents=True)
    return str(tmp_path / "net")


@pytest.fixture
def ensure(conn, instances_path, sysfs):
    conn.nwfilterDefineXML("<filter name='%s' chain='root'/>" % FILTER)

    def run(instances, check_mode=False, diff=True, **options):
        params = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
        params.update(instances=instances, instances_path=str(instances_path), wait_for="none")
        params.update(options)
        return DomainService(params, run_command=None, sysfs_net=sysfs).ensure(check_mode, diff)
    return run


def test_check_mode_reports_and_changes_nothing(conn, ensure, instances_path):
    before = conn.snapshot()
    result = ensure([make_instance(instances_path)], check_mode=True, state="running")
    assert result["changed"] is True
    assert result["instances"][0]["changes"] == ["define", "write libvirt.xml", "start"]
    assert result["instances"][0]["state"] == "running"
    assert conn.snapshot() == before
    assert not (instances_path / SAMPLE_NAME / "libvirt.xml").exists()
    assert result["diff"][0]["before"] == "" and "<name>instance-00000002</name>" in result["diff"][0]["after"]


def test_define_writes_libvirt_xml_then_reruns_change_nothing(conn, ensure, instances_path):
    spec = make_instance(instances_path)
    result = ensure([spec], state="running")
    assert result["changed"] and conn.domains[SAMPLE_NAME].state_code == RUNNING
    assert (instances_path / SAMPLE_NAME / "libvirt.xml").read_text() == result["instances"][0]["definition"]
    assert (instances_path / SAMPLE_NAME / "console.log").stat().st_mode & 0o777 == 0o660
    assert result["virt_type"] == "qemu"
    for check_mode in (True, False):
        again = ensure([spec], check_mode=check_mode, state="running")
        assert again["changed"] is False, again["instances"][0]["changes"]
        assert again["diff"] == []
    assert conn.defined == [SAMPLE_NAME]


def test_changed_flavor_shows_a_diff_and_redefines_keeping_libvirt_uuid(conn, ensure, instances_path):
    spec = make_instance(instances_path, uuid=None)
    first = ensure([spec], state="running")
    uuid = first["instances"][0]["uuid"]
    spec["flavor"] = dict(spec["flavor"], memory_mb=1024, vcpus=2)
    result = ensure([spec], state="running", check_mode=True)
    assert result["instances"][0]["changes"] == ["redefine", "write libvirt.xml"]
    definition = result["diff"][0]
    assert "<memory>524288</memory>" in definition["before"] and "<memory>1048576</memory>" in definition["after"]
    assert "<vcpu>2</vcpu>" in definition["after"]
    result = ensure([spec], state="running")
    assert result["instances"][0]["uuid"] == uuid
    assert result["instances"][0]["restart_required"] is True
    assert "<memory>1048576</memory>" in conn.domains[SAMPLE_NAME].xml


def test_uuid_that_belongs_to_another_domain_fails_before_anything(conn, ensure, instances_path):
    ensure([make_instance(instances_path)], state="present")
    before = conn.snapshot()
    other = make_instance(instances_path, name="instance-00000003", network_info=[])
    with pytest.raises(InvalidInput, match="already belongs to domain instance-00000002"):
        ensure([other], state="present")
    wrong = make_instance(instances_path, uuid="5c0a1f3e-7d2b-4c6a-9e1f-0b8d2a4c6e10")
    with pytest.raises(InvalidInput, match="already exists with uuid " + SAMPLE_UUID):
        ensure([wrong], state="absent")
    assert conn.snapshot() == before


def test_failed_start_undefines_what_it_defined_and_shows_the_qemu_log(
        conn, ensure, instances_path, monkeypatch, tmp_path):
    from ansible_collections.novalite.compute.plugins.module_utils.virt import connection
    monkeypatch.setattr(connection, "QEMU_LOG_DIR", str(tmp_path))
    (tmp_path / (SAMPLE_NAME + ".log")).write_text("line 1\nqemu-system-x86_64: Image is not in qcow2 format\n")
    healthy = make_instance(instances_path, name="instance-00000003", uuid=None, network_info=[])
    broken = make_instance(instances_path)
    original = conn.defineXML

    def define_then_break(xml):
        domain = original(xml)
        if domain.name() == SAMPLE_NAME:
            domain.start_error = libvirt_error(1, "internal error: qemu unexpectedly closed the monitor")
        return domain
    conn.defineXML = define_then_break
    with pytest.raises(NovaliteError) as failure:
        ensure([healthy, broken], state="running")
    message = failure.value.msg
    assert "starting instance-00000002: internal error: qemu unexpectedly closed the monitor" in message
    assert "Image is not in qcow2 format" in message
    healthy_dir, broken_dir = instances_path / "instance-00000003", instances_path / SAMPLE_NAME
    assert failure.value.details["failed_step"] == "starting instance-00000002"
    assert failure.value.details["rolled_back"] == [
        "destroy instance-00000003", "undefine instance-00000002", "remove %s/console.log" % broken_dir,
        "restore %s/libvirt.xml" % broken_dir, "undefine instance-00000003", "remove %s/console.log" % healthy_dir,
        "restore %s/libvirt.xml" % healthy_dir], message
    assert failure.value.details["rollback_failures"] == []
    assert conn.domains == {}  # both undefined, the healthy one destroyed first
    assert not (instances_path / SAMPLE_NAME / "libvirt.xml").exists()
    assert not (instances_path / SAMPLE_NAME / "console.log").exists()


def _fail_for(name, error, original):
    """``original``, except that for a path inside instance ``name``'s directory it raises ``error``."""
    def replacement(path, *args, **kwargs):
        if "/%s/" % name in str(path):
            raise error
        return original(path, *args, **kwargs)
    return replacement


@pytest.mark.parametrize("target, error, step", [
    ("write_atomic", OSError(28, "No space left on device"), "writing {dir}/libvirt.xml"),
    ("create_empty_console_log", PermissionError(13, "Permission denied"), "creating {dir}/console.log"),
    ("create_empty_console_log", KeyError("a bug"), "creating {dir}/console.log"),
])
def test_any_exception_while_writing_an_instance_dir_undoes_the_run(
        conn, ensure, instances_path, monkeypatch, target, error, step):
    """Not only NovaliteErrors: an OSError (or a bug) undoes what was done and names the step."""
    first = make_instance(instances_path, name="instance-00000003", uuid=None, network_info=[])
    second = make_instance(instances_path)
    monkeypatch.setattr(domain, target, _fail_for(SAMPLE_NAME, error, getattr(domain, target)))
    with pytest.raises(NovaliteError) as failure:
        ensure([first, second], state="running")
    details = failure.value.details
    assert details["failed_step"] == step.format(dir=instances_path / SAMPLE_NAME)
    assert failure.value.msg.startswith(details["failed_step"] + ": ")
    assert "undefine instance-00000003" in details["rolled_back"]
    assert details["rollback_failures"] == []
    assert conn.domains == {}
    for name in ("instance-00000003", SAMPLE_NAME):
        assert not (instances_path / name / "libvirt.xml").exists()
        assert not (instances_path / name / "console.log").exists()


def test_an_oserror_while_waiting_destroys_and_undefines_what_was_started(conn, ensure, instances_path, monkeypatch):
    def unreadable_neighbour_table(*_args, **_kwargs):
        raise OSError(5, "Input/output error", "/proc/net/arp")
    monkeypatch.setattr(domain, "wait_for_all", unreadable_neighbour_table)
    with pytest.raises(NovaliteError) as failure:
        ensure([make_instance(instances_path)], state="running", wait_for="running")
    assert failure.value.msg == "waiting for the guests: Input/output error: /proc/net/arp"
    assert failure.value.details["failed_step"] == "waiting for the guests"
    assert failure.value.details["rolled_back"][:2] == ["destroy instance-00000002", "undefine instance-00000002"]
    assert conn.domains == {}


def test_an_unexpected_libvirt_failure_is_undone_too(conn, ensure, instances_path):
    """An exception that is not a libvirtError (here from defineXML) still undoes and names the step."""
    original = conn.defineXML

    def define_then_crash(xml):
        if SAMPLE_NAME in xml:
            raise RuntimeError("connection reset")
        return original(xml)
    conn.defineXML = define_then_crash
    first = make_instance(instances_path, name="instance-00000003", uuid=None, network_info=[])
    with pytest.raises(NovaliteError) as failure:
        ensure([first, make_instance(instances_path)], state="present")
    assert failure.value.msg == "defining instance-00000002: RuntimeError: connection reset"
    assert failure.value.details["rolled_back"][0] == "remove %s/console.log" % (instances_path / SAMPLE_NAME)
    assert "exception" in failure.value.details
    assert conn.domains == {}


def test_a_new_instance_dir_is_removed_again(conn, ensure, instances_path, tmp_path):
    """A directory the run created goes away with the rest (the disk lives elsewhere here)."""
    disk = tmp_path / "disk"
    disk.write_bytes(b"x")
    spec = make_instance(instances_path, kernel_id=None, ramdisk_id=None, disk=str(disk),
                         instance_dir=str(instances_path / "fresh"), network_info=[])

    def refuse(_xml):
        raise libvirt_error(1, "internal error: simulated")
    conn.defineXML = refuse
    with pytest.raises(NovaliteError, match="defining instance-00000002: internal error: simulated") as failure:
        ensure([spec], state="present")
    assert failure.value.details["rolled_back"][-1] == "remove %s" % (instances_path / "fresh")
    assert not (instances_path / "fresh").exists()


def test_missing_filter_or_bridge_fails_before_anything(conn, ensure, instances_path, sysfs):
    del conn.nwfilters[FILTER]
    with pytest.raises(InvalidInput, match="nwfilter %s is not defined" % FILTER):
        ensure([make_instance(instances_path)], state="running")
    assert conn.domains == {}
    spec = make_instance(instances_path)
    spec["network_info"][0]["network"]["bridge"] = "br200"
    with pytest.raises(InvalidInput, match="bridge br200 does not exist"):
        ensure([spec], state="running")
    assert conn.domains == {} and not (instances_path / SAMPLE_NAME / "libvirt.xml").exists()


def test_present_does_not_need_the_filter_yet(conn, ensure, instances_path):
    del conn.nwfilters[FILTER]
    assert ensure([make_instance(instances_path)], state="present")["instances"][0]["state"] == "shutoff"


def test_shutdown_waits_for_acpi_then_destroys_after_the_timeout(conn, ensure, instances_path):
    spec = make_instance(instances_path)
    ensure([spec], state="running")
    domain = conn.domains[SAMPLE_NAME]
    domain.obeys_acpi = False
    result = ensure([{"name": SAMPLE_NAME}], state="shutdown", shutdown_timeout=0)
    assert result["instances"][0]["changes"] == ["shutdown", "destroy after shutdown timeout"]
    assert domain.state_code == SHUTOFF
    assert ("shutdown", 1) in domain.calls  # VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN
    assert ensure([{"name": SAMPLE_NAME}], state="shutdown")["changed"] is False


def test_shutdown_without_destroy_fails_when_the_guest_ignores_acpi(conn, ensure, instances_path):
    ensure([make_instance(instances_path)], state="running")
    conn.domains[SAMPLE_NAME].obeys_acpi = False
    with pytest.raises(NovaliteError, match="still running 0s after the ACPI shutdown request"):
        ensure([{"name": SAMPLE_NAME}], state="shutdown", shutdown_timeout=0, destroy_after_timeout=False)
    assert conn.domains[SAMPLE_NAME].state_code == RUNNING


def test_acpi_shutdown_and_destroyed(conn, ensure, instances_path):
    ensure([make_instance(instances_path)], state="running")
    assert ensure([{"name": SAMPLE_NAME}], state="shutdown")["instances"][0]["changes"] == ["shutdown"]
    ensure([make_instance(instances_path)], state="running")
    result = ensure([{"name": SAMPLE_NAME}], state="destroyed")
    assert result["instances"][0]["changes"] == ["destroy"] and result["instances"][0]["state"] == "shutoff"


def test_paused_guest_is_resumed(conn, ensure, instances_path):
    spec = make_instance(instances_path)
    ensure([spec], state="running")
    conn.domains[SAMPLE_NAME].state_code = PAUSED
    assert ensure([spec], state="running")["instances"][0]["changes"] == ["resume"]
    assert conn.domains[SAMPLE_NAME].state_code == RUNNING


def test_absent_destroys_undefines_and_removes_the_dir(conn, ensure, instances_path):
    ensure([make_instance(instances_path)], state="running")
    result = ensure([{"name": SAMPLE_NAME}], state="absent", remove_instance_dir=True, check_mode=True)
    assert result["instances"][0]["changes"] == ["destroy", "undefine", "remove instance dir"]
    assert SAMPLE_NAME in conn.domains
    result = ensure([{"name": SAMPLE_NAME}], state="absent", remove_instance_dir=True)
    assert result["instances"][0]["state"] == "absent" and conn.domains == {}
    assert not (instances_path / SAMPLE_NAME).exists()
    assert ensure([{"name": SAMPLE_NAME}], state="absent", remove_instance_dir=True)["changed"] is False


def test_remove_instance_dir_only_inside_instances_path(conn, ensure, instances_path, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(InvalidInput, match="only removes directories inside instances_path"):
        ensure([{"name": SAMPLE_NAME, "instance_dir": str(outside)}], state="absent", remove_instance_dir=True)
    assert outside.exists()


def test_autostart_is_set_and_reported(conn, ensure, instances_path):
    spec = make_instance(instances_path)
    result = ensure([spec], state="present", autostart=True)
    assert "autostart on" in result["instances"][0]["changes"] and conn.domains[SAMPLE_NAME].autostart_flag
    assert ensure([spec], state="present", autostart=True)["changed"] is False
    assert ensure([spec], state="present")["changed"] is False  # not given: left alone


def test_batch_defines_and_starts_all_in_one_call(conn, ensure, instances_path):
    specs = [make_instance(instances_path, name="instance-%08x" % n, uuid=None, network_info=[]) for n in range(3, 8)]
    result = ensure(specs, state="running")
    assert [i["state"] for i in result["instances"]] == ["running"] * 5
    assert len({i["uuid"] for i in result["instances"]}) == 5


def test_a_batch_starts_paused_and_every_guest_resumes_after_the_last_start(conn, ensure, instances_path, monkeypatch):
    events = []
    fake = FakeDomain
    create, resume = fake.createWithFlags, fake.resume

    def recording_create(domain, flags):
        events.append(("start", domain.name(), flags))
        return create(domain, flags)

    def recording_resume(domain):
        events.append(("resume", domain.name()))
        return resume(domain)
    monkeypatch.setattr(fake, "createWithFlags", recording_create)
    monkeypatch.setattr(fake, "resume", recording_resume)
    specs = [make_instance(instances_path, name="instance-%08x" % n, uuid=None, network_info=[]) for n in range(3, 6)]
    ensure(specs, state="running")
    names = [spec["name"] for spec in specs]
    assert sorted(events[:3]) == [("start", name, domain.libvirt.VIR_DOMAIN_START_PAUSED) for name in names]
    assert events[3:] == [("resume", name) for name in names]
    assert {conn.domains[name].state_code for name in names} == {RUNNING}


def test_absent_destroys_a_batch_at_once(conn, ensure, instances_path, monkeypatch):
    specs = [make_instance(instances_path, name="instance-%08x" % n, uuid=None, network_info=[]) for n in range(3, 6)]
    ensure(specs, state="running")
    fake = FakeDomain
    together = threading.Barrier(len(specs), timeout=5)  # broken unless all three destroys overlap
    destroy = fake.destroy

    def destroy_when_all_are_in(domain):
        together.wait()
        return destroy(domain)
    monkeypatch.setattr(fake, "destroy", destroy_when_all_are_in)
    ensure([dict(spec, network_info=[]) for spec in specs], state="absent")
    assert conn.domains == {}


def test_wait_for_port_needs_a_fixed_ip(conn, ensure, instances_path):
    with pytest.raises(InvalidInput, match="wait_for port needs a fixed IP"):
        ensure([make_instance(instances_path, vifs=[])], state="running", wait_for="port", wait_port=22)
    assert conn.domains == {}


def test_wait_for_running(conn, ensure, instances_path):
    result = ensure([make_instance(instances_path)], state="running", wait_for="running", wait_timeout=5)
    assert result["instances"][0]["state"] == "running"


@pytest.mark.parametrize("options, message", [
    ({"graphics_listen": "0.0.0"}, "graphics_listen '0.0.0': expected an IP address"),
    ({"wait_timeout": -1}, "wait_timeout -1"),
    ({"wait_for": "port", "wait_port": 70000}, "wait_port 70000"),
])
def test_bad_options_fail_before_anything(conn, ensure, instances_path, options, message):
    with pytest.raises(InvalidInput, match=message):
        ensure([make_instance(instances_path)], state="running", **options)
    assert conn.domains == {}


def test_forced_virt_type(conn, ensure, instances_path):
    result = ensure([make_instance(instances_path)], state="present", virt_type="kvm", check_mode=True)
    assert result["virt_type"] == "kvm" and "<domain type=\"kvm\">" in result["instances"][0]["definition"]


def test_check_mode_of_a_whole_run_assumes_what_earlier_steps_would_make(conn, ensure, instances_path):
    """A fresh host in the check of a whole run: no disk, kernel, ramdisk, drive, bridge or filter yet."""
    del conn.nwfilters[FILTER]
    spec = make_instance(instances_path, config_drive=True)
    for filename in ("disk", "kernel", "ramdisk"):
        (instances_path / SAMPLE_NAME / filename).unlink()
    spec["network_info"][0]["network"]["bridge"] = "br200"
    before = conn.snapshot()
    with pytest.raises(InvalidInput, match="disk .* no such file"):
        ensure([spec], check_mode=True, state="running")
    result = ensure([spec], check_mode=True, state="running", assume_prepared=True)
    [instance] = result["instances"]
    assert instance["changes"] == ["define", "write libvirt.xml", "start"] and instance["state"] == "running"
    directory = instances_path / SAMPLE_NAME
    assert instance["assumed"] == [str(directory / "disk"), str(directory / "kernel"), str(directory / "ramdisk"),
                                   str(directory / "disk.config"), "bridge br200", "nwfilter %s" % FILTER]
    assert '<source file="%s"/>' % (directory / "disk") in result["diff"][0]["after"]
    assert conn.snapshot() == before and sorted(os.listdir(directory)) == []


def test_assume_prepared_has_no_effect_outside_check_mode(conn, ensure, instances_path):
    spec = make_instance(instances_path)
    (instances_path / SAMPLE_NAME / "disk").unlink()
    with pytest.raises(InvalidInput, match="disk .* no such file"):
        ensure([spec], state="running", assume_prepared=True)
    assert conn.domains == {}
    present = make_instance(instances_path, name="instance-00000003", uuid=None, vifs=[])
    assert ensure([present], check_mode=True, state="present", assume_prepared=True)["instances"][0]["assumed"] == []
