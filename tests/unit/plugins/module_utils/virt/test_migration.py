"""virt/migration.py (live_migration): the target's domain XML, the disks block migration copies, the
CPU check, and the job: done, failed (the guest stays, resumed if paused) or aborted after its timeout."""

import pytest

import libvirt

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.virt import migration
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import libvirt_error
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_samples import sample_vif

NAME = "instance-00000002"
XML = """<domain type='qemu'><name>%s</name><os><type arch='x86_64'>hvm</type>
<kernel>/var/lib/novalite/instances/%s/kernel</kernel></os>
<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>
<devices>
<disk type='file' device='disk'><source file='/var/lib/novalite/instances/%s/disk'/><target dev='vda'/></disk>
<disk type='file' device='cdrom'><source file='/var/lib/novalite/instances/%s/disk.config'/><target dev='hdb'/>
<readonly/></disk>
<interface type='bridge'><mac address='fa:16:3e:47:ef:94'/><source bridge='br100'/>
<filterref filter='nova-instance-%s-fa163e47ef94'><parameter name='DHCPSERVER' value='10.1.0.3'/>
<parameter name='IP' value='10.1.0.4'/></filterref></interface>
<serial type='file'><source path='/var/lib/novalite/instances/%s/console.log'/></serial>
</devices></domain>""" % ((NAME,) * 6)


def spec(tmp_path, **raw):
    entry = {"name": NAME, "uuid": "b110ed3b-9cc3-4d30-b433-a71090166b2c", "target_host": "compute2",
             "target_uri": "qemu+ssh://root@compute2/system", "migration_address": "169.254.9.81",
             "network_info": [sample_vif(dhcp_server="10.1.0.5")]}
    entry.update(raw)
    params = {"instances_path": "/var/lib/novalite/instances", "state": "migrated",
              "target_instances_path": raw.pop("target_instances_path", None)}
    return migration.LiveSpec(entry, 0, params)


def test_the_target_xml_carries_the_target_dhcp_server_and_paths(tmp_path):
    xml = migration.target_xml(XML, spec(tmp_path))
    assert "name=\"DHCPSERVER\" value=\"10.1.0.5\"" in xml and "10.1.0.3" not in xml
    assert "name=\"PROJNET\" value=\"10.1.0.0\"" in xml  # the whole parameter set, from network_info
    moved = migration.target_xml(XML, spec(tmp_path, target_instances_path="/srv/instances"))
    assert "/var/lib/novalite" not in moved and "/srv/instances/%s/console.log" % NAME in moved
    assert "<kernel>/srv/instances/%s/kernel</kernel>" % NAME in moved


def test_a_spec_needs_a_target_and_a_valid_migration_address(tmp_path):
    with pytest.raises(InvalidInput, match="target_host and target_uri are needed"):
        spec(tmp_path, target_uri=None)
    with pytest.raises(InvalidInput, match="migration_address"):
        spec(tmp_path, migration_address="not an address")
    assert spec(tmp_path).migration_uri == "tcp://169.254.9.81"
    with pytest.raises(InvalidInput, match="target_instances_path 'srv': expected an absolute path"):
        spec(tmp_path, target_instances_path="srv")  # checked as a resize checks it (common/instance_dir.py)


class FakeDomain:
    def __init__(self, outcome=None, hangs=False):
        self.outcome, self.hangs = outcome, hangs
        self.state_code = libvirt.VIR_DOMAIN_RUNNING
        self.gone = False
        self.calls = []

    def XMLDesc(self, flags=0):
        return XML

    def migrateToURI3(self, uri, params, flags):
        self.calls.append(("migrate", uri, sorted(params), flags))
        while self.hangs:
            pass  # until abortJob
        if self.outcome is not None:
            self.state_code = libvirt.VIR_DOMAIN_PAUSED
            raise self.outcome
        self.gone = True

    def abortJob(self):
        self.calls.append(("abort",))
        self.hangs = False
        self.outcome = libvirt_error(libvirt.VIR_ERR_OPERATION_ABORTED, "operation aborted: migration job")

    def state(self, flags=0):
        if self.gone:
            raise libvirt_error(libvirt.VIR_ERR_NO_DOMAIN, "Domain not found")
        return [self.state_code, 1]

    def resume(self):
        self.calls.append(("resume",))
        self.state_code = libvirt.VIR_DOMAIN_RUNNING


def test_copied_disks_are_the_writable_ones():
    assert migration.copied_disks(FakeDomain()) == ["vda"]


def job(tmp_path, domain, timeout=800):
    live = migration.LiveMigration({"completion_timeout": timeout}, [], check_mode=False)
    live._run_job(domain, spec(tmp_path), {"x": 1})  # pylint: disable=protected-access


def test_the_job_ends_when_the_domain_is_gone(tmp_path):
    domain = FakeDomain()
    job(tmp_path, domain)
    assert domain.calls[0][1] == "qemu+ssh://root@compute2/system"
    assert domain.calls[0][3] == migration.live_flags()
    assert domain.calls[0][3] & libvirt.VIR_MIGRATE_NON_SHARED_INC and domain.calls[0][3] & libvirt.VIR_MIGRATE_PEER2PEER


def test_a_failed_job_leaves_the_guest_running_here(tmp_path):
    domain = FakeDomain(outcome=libvirt_error(libvirt.VIR_ERR_OPERATION_FAILED, "migration failed: connection reset"))
    with pytest.raises(NovaliteError, match="connection reset"):
        job(tmp_path, domain)
    assert ("resume",) in domain.calls and domain.state()[0] == libvirt.VIR_DOMAIN_RUNNING


def test_a_job_that_takes_too_long_is_aborted(tmp_path):
    domain = FakeDomain(hangs=True)
    with pytest.raises(NovaliteError, match=r"aborted after 0s \(completion_timeout\)"):
        job(tmp_path, domain, timeout=0)
    assert ("abort",) in domain.calls


class FakeTarget:
    def __init__(self, answer):
        self.answer = answer

    def compareHypervisorCPU(self, emulator, arch, machine, virttype, xml, flags):
        assert (arch, virttype) == ("x86_64", "qemu") and "qemu64" in xml
        return self.answer


def test_the_target_must_run_the_guest_cpu(tmp_path):
    assert migration.compare_cpu(FakeTarget(libvirt.VIR_CPU_COMPARE_IDENTICAL), XML, spec(tmp_path)) == "identical"
    with pytest.raises(InvalidInput, match="the CPU of compute2 cannot run the guest's CPU"):
        migration.compare_cpu(FakeTarget(libvirt.VIR_CPU_COMPARE_INCOMPATIBLE), XML, spec(tmp_path))
    passthrough = XML.replace("mode='custom'", "mode='host-passthrough'")
    assert migration.compare_cpu(None, passthrough, spec(tmp_path)).startswith("not compared")
