"""The host half of instance_snapshot against a fake libvirt and a fake qemu-img: a running guest is
paused only while its disk is read, the records say image_snapshot then image_uploading, a failure
resumes the guest and removes the partial image, and cleanup ends the task state."""

import json
import shutil
from types import SimpleNamespace

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.image.snapshot import ensure_snapshot, md5sum
from ansible_collections.novalite.compute.plugins.modules.instance_snapshot import ARGUMENT_SPEC
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import (
    PAUSED, RUNNING, SHUTOFF)
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_fixtures import (  # noqa: F401 pylint: disable=unused-import
    conn, instances_path)

UUID = "11111111-1111-4111-8111-111111111111"
IMAGE_ID = "33333333-3333-4333-8333-333333333333"
NAME = "instance-00000001"


class FakeQemuImg:
    """qemu-img info and convert; the domain's state is recorded at every convert."""

    def __init__(self, domain):
        self.domain = domain
        self.states_at_convert = []
        self.fail_convert = None

    def __call__(self, args, environ_update=None, **kwargs):
        if args[1] == "info":
            return 0, json.dumps({"format": "qcow2", "virtual-size": 33554432}), ""
        self.states_at_convert.append(self.domain.state_code)
        if self.fail_convert:
            with open(args[-1], "wb") as partial:
                partial.write(b"half")
            return 1, "", self.fail_convert
        shutil.copyfile(args[-2], args[-1])
        return 0, "", ""


@pytest.fixture
def host(conn, instances_path, tmp_path):  # noqa: F811
    facts = FactsStore(str(tmp_path / "novalite.fact"))
    with facts.transaction() as transaction:
        transaction.document["instances"][UUID] = {"uuid": UUID, "name": NAME, "display_name": "web",
                                                   "vm_state": "active", "power_state": 1, "task_state": None}
    conn.defineXML("<domain><name>%s</name><uuid>%s</uuid></domain>" % (NAME, UUID)).state_code = RUNNING
    (instances_path / NAME).mkdir()
    (instances_path / NAME / "disk").write_bytes(b"QFI\xfb the instance's disk")
    staging = tmp_path / "ansible-tmp"
    staging.mkdir()
    qemu = FakeQemuImg(conn.domains[NAME])
    return SimpleNamespace(facts=facts, staging=staging, qemu=qemu, domain=conn.domains[NAME])


def run(host, instances_path, check_mode=False, **params):  # noqa: F811
    values = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
    values.update(instances=[{"uuid": UUID}], image_ids={UUID: IMAGE_ID}, instances_path=str(instances_path),
                  facts_path=host.facts.path)
    values.update(params)
    module = SimpleNamespace(params=values, check_mode=check_mode, run_command=host.qemu,
                             get_bin_path=lambda name, required=False: name, _tmpdir=str(host.staging))
    return ensure_snapshot(module)


def task_state(host):
    return host.facts.load()["instances"][UUID]["task_state"]


def test_a_running_guest_is_paused_only_while_its_disk_is_read(host, instances_path):  # noqa: F811
    [snapshot] = run(host, instances_path)["snapshots"]
    assert host.qemu.states_at_convert == [PAUSED] and host.domain.state_code == RUNNING
    assert snapshot["paused_for_it"] is True
    staged = host.staging / ("snapshot-%s.qcow2" % IMAGE_ID)
    assert snapshot["path"] == str(staged) and staged.read_bytes() == b"QFI\xfb the instance's disk"
    assert (snapshot["size"], snapshot["checksum"], snapshot["virtual_size"]) == (
        staged.stat().st_size, md5sum(str(staged)), 33554432)
    assert task_state(host) == "image_uploading"
    ended = run(host, instances_path, cleanup=True)
    assert ended["changed"] and task_state(host) is None and not staged.exists()
    assert run(host, instances_path, cleanup=True)["changed"] is False


def test_a_stopped_guest_is_left_as_it_is(host, instances_path):  # noqa: F811
    host.domain.state_code = SHUTOFF
    with host.facts.transaction() as transaction:
        transaction.document["instances"][UUID]["vm_state"] = "stopped"
    [snapshot] = run(host, instances_path)["snapshots"]
    assert host.qemu.states_at_convert == [SHUTOFF] and snapshot["paused_for_it"] is False


def test_check_mode_changes_nothing(host, instances_path):  # noqa: F811
    before = host.facts.load()
    assert run(host, instances_path, check_mode=True)["changed"] is True
    assert host.facts.load() == before and list(host.staging.iterdir()) == [] and host.qemu.states_at_convert == []


def test_a_failed_conversion_resumes_the_guest_removes_the_partial_image_and_puts_the_record_back(host,
                                                                                                 instances_path):  # noqa: F811
    host.qemu.fail_convert = "No space left on device"
    with pytest.raises(NovaliteError, match="snapshot of instance-00000001: .*No space left on device"):
        run(host, instances_path)
    assert host.domain.state_code == RUNNING and list(host.staging.iterdir()) == []
    assert task_state(host) is None


def test_an_instance_in_a_state_that_cannot_be_snapshotted_is_refused(host, instances_path):  # noqa: F811
    with host.facts.transaction() as transaction:
        transaction.document["instances"][UUID]["vm_state"] = "error"
    with pytest.raises(InvalidInput, match="cannot snapshot web .*its vm_state is error"):
        run(host, instances_path)
    with pytest.raises(InvalidInput, match="image_ids has no image id"):
        run(host, instances_path, image_ids={})
