"""instance_rebuild against a fake libvirt: prepared sets the old files aside and keeps the definition,
finished records the new image, reverted puts everything back; user data survives."""

import json
import os
import subprocess
from types import SimpleNamespace

import pytest

from ansible_collections.novalite.compute.plugins.doc_fragments.instance_host import ModuleDocFragment as InstanceHost
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.compute.config_drive import make_config_drive
from ansible_collections.novalite.compute.plugins.module_utils.virt.rebuild import ensure_rebuild, read_user_data
from ansible_collections.novalite.compute.plugins.modules import instance_rebuild
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import RUNNING, SHUTOFF
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented

UUID = "11111111-1111-4111-8111-111111111111"
NAME = "instance-00000001"
OLD, NEW = "6172f6e7-9eb4-54c3-9a3e-e53169eb01b9", "43b134c1-e1cf-4836-a3f8-0a4b91decd1d"
DOMAIN = ("<domain type='qemu'><name>%s</name><uuid>%s</uuid><memory>131072</memory><vcpu>1</vcpu>"
          "<os><type>hvm</type></os><devices/></domain>" % (NAME, UUID))
FILES = {"disk": b"old disk", "kernel": b"old kernel", "ramdisk": b"old ramdisk"}


def real_run(args, **kwargs):
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def config_drive(path, user_data):
    """A real config drive, as the config_drive step makes it (genisoimage)."""
    record = {"uuid": UUID, "name": NAME, "display_name": "web", "hostname": "web"}
    make_config_drive(real_run, "genisoimage", str(path), record, "novalite.compute", user_data=user_data)


@pytest.fixture
def host(conn, instances_path, tmp_path):
    facts = FactsStore(str(tmp_path / "novalite.fact"))
    with facts.transaction() as transaction:
        transaction.document["instances"][UUID] = {"uuid": UUID, "name": NAME, "display_name": "web",
                                                   "vm_state": "active", "power_state": 1, "task_state": None,
                                                   "image_ref": OLD, "image_name": "old", "launched_at": "t0"}
    conn.defineXML(DOMAIN).state_code = RUNNING
    directory = instances_path / NAME
    directory.mkdir()
    for name, content in FILES.items():
        (directory / name).write_bytes(content)
    config_drive(directory / "disk.config", "#!/bin/sh\necho hi\n")
    files = dict(FILES, **{"disk.config": (directory / "disk.config").read_bytes()})
    return SimpleNamespace(facts=facts, conn=conn, directory=directory, files=files)


def run(host, instances_path, state, check_mode=False, **params):
    values = {name: spec.get("default") for name, spec in instance_rebuild.ARGUMENT_SPEC.items()}
    values.update(instances=[{"uuid": UUID, "image_ref": NEW, "image_name": "new", "kernel_id": None,
                              "ramdisk_id": None}], state=state, instances_path=str(instances_path),
                  facts_path=host.facts.path, **params)
    module = SimpleNamespace(params=values, check_mode=check_mode)
    return ensure_rebuild(module)


def record(host):
    return host.facts.load()["instances"][UUID]


def test_documentation_matches_the_argument_spec():
    assert_documented(instance_rebuild, fragments=[InstanceHost])


def test_prepared_destroys_the_domain_keeps_it_defined_and_sets_the_files_aside(host, instances_path):
    result = run(host, instances_path, "prepared")
    assert result["user_data"] == "#!/bin/sh\necho hi\n"
    assert result["instances"][0]["vm_state_before"] == "active" and result["instances"][0]["libvirt_before"] == "up"
    assert host.conn.domains[NAME].state_code == SHUTOFF  # still defined: same uuid, MAC and filters next time
    assert {p.name for p in host.directory.iterdir()} == {"rebuild-aside"}
    assert record(host)["task_state"] == "rebuilding"
    assert run(host, instances_path, "prepared")["changed"] is False  # a cut-off rebuild is prepared already


def test_finished_records_the_new_image_and_drops_what_was_set_aside(host, instances_path):
    run(host, instances_path, "prepared")
    host.conn.domains[NAME].state_code = RUNNING  # what the spawn step did
    for name in host.files:
        (host.directory / name).write_bytes(b"new")
    result = run(host, instances_path, "finished")
    assert result["changed"] and result["instances"][0]["image_name"] == "new"
    found = record(host)
    assert (found["image_ref"], found["vm_state"], found["power_state"], found["task_state"]) == (
        NEW, "active", 1, None)
    assert found["launched_at"] != "t0" and not (host.directory / "rebuild-aside").exists()
    assert run(host, instances_path, "finished")["changed"] is False


def test_reverted_puts_the_old_files_definition_and_state_back(host, instances_path):
    run(host, instances_path, "prepared")
    (host.directory / "disk").write_bytes(b"half-made new disk")
    host.conn.defineXML(DOMAIN.replace("131072", "262144"))  # a spawn that redefined
    result = run(host, instances_path, "reverted")
    assert result["changed"]
    assert {name: (host.directory / name).read_bytes() for name in host.files} == host.files
    assert host.conn.domains[NAME].state_code == RUNNING and "131072" in host.conn.domains[NAME].xml
    assert "131072" in (host.directory / "libvirt.xml").read_text()  # the definition it had before
    found = record(host)
    assert (found["image_ref"], found["vm_state"], found["task_state"]) == (OLD, "active", None)


def test_check_mode_changes_nothing_and_a_bad_state_is_refused(host, instances_path):
    before = (record(host), sorted(p.name for p in host.directory.iterdir()))
    assert run(host, instances_path, "prepared", check_mode=True)["diff"]["after"] == {NAME: NEW}
    assert (record(host), sorted(p.name for p in host.directory.iterdir())) == before
    with host.facts.transaction() as transaction:
        transaction.document["instances"][UUID]["vm_state"] = "paused"
    with pytest.raises(InvalidInput, match="cannot rebuild web .*its vm_state is paused; rebuild needs vm_state "
                                           "active or stopped or error"):
        run(host, instances_path, "prepared")


def test_a_failure_while_setting_aside_puts_everything_back(host, instances_path, monkeypatch):
    rename = os.rename

    def no_room_for_the_kernel(source, target):
        if str(target).endswith("rebuild-aside/kernel"):
            raise OSError(28, "No space left on device", target)
        rename(source, target)
    monkeypatch.setattr(os, "rename", no_room_for_the_kernel)
    with pytest.raises(NovaliteError, match="setting instance-00000001 aside: No space left on device"):
        run(host, instances_path, "prepared")
    monkeypatch.undo()
    assert host.conn.domains[NAME].state_code == RUNNING
    assert {p.name for p in host.directory.iterdir()} == set(host.files)
    assert record(host)["task_state"] is None and json.dumps(record(host))


def test_the_user_data_is_read_from_the_drives_joliet_tree(tmp_path):
    config_drive(tmp_path / "with.config", "#cloud-config\nruncmd: [echo]\n")
    config_drive(tmp_path / "without.config", None)
    assert read_user_data(str(tmp_path / "with.config")) == "#cloud-config\nruncmd: [echo]\n"
    assert read_user_data(str(tmp_path / "without.config")) is None
    (tmp_path / "junk").write_bytes(b"x" * 40000)
    with pytest.raises(NovaliteError, match="cannot read the user data of the config drive .*junk"):
        read_user_data(str(tmp_path / "junk"))
