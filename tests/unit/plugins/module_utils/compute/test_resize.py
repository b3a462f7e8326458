"""compute/resize.py (instance_resize): migrated on the source (same host and another host), finished,
confirmed and reverted on real files; libvirt and the copy to another host are faked. A failure while
migrating leaves the instance running on its source, as it was."""

import contextlib
import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.compute import resize
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import (
    RUNNING, FakeConnection)

UUID = "b110ed3b-9cc3-4d30-b433-a71090166b2c"
NAME = "instance-00000001"
DOMAIN = """<domain type='qemu'><name>%s</name><uuid>%s</uuid><memory>524288</memory><vcpu>1</vcpu>
<os><type>hvm</type></os><devices/></domain>""" % (NAME, UUID)
RECORD = {"uuid": UUID, "name": NAME, "display_name": "web", "host": "compute1", "project_id": "default",
          "flavor": {"name": "m1.tiny", "memory_mb": 512, "vcpus": 1, "root_gb": 0}, "vm_state": "active",
          "task_state": "resize_migrating"}
BIGGER = {"name": "t1.bigger", "memory_mb": 768, "vcpus": 2, "root_gb": 1}

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")


class FakeModule:
    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode

    @staticmethod
    def run_command(args, environ_update=None, **_kwargs):
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr

    @staticmethod
    def get_bin_path(name, required=False, opt_dirs=None):
        return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", "")] + (opt_dirs or [])))


class FakeRemoteDirectory:
    """The target's directory as a local one; ``fail_after`` sends that many files, then fails."""

    fail_after = None

    def __init__(self, conn, path, what, create=True):
        self.path = conn.remote_root + path
        self.sent, self.made_directory, self.missing = [], False, False

    def __enter__(self):
        if not os.path.isdir(self.path):
            os.makedirs(self.path)
            self.made_directory = True
        return self

    def __exit__(self, *exc_info):
        return False

    def send(self, local_path, name):
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise NovaliteError("sending %s: the target went away" % name)
        shutil.copyfile(local_path, os.path.join(self.path, name))
        self.sent.append(os.path.join(self.path, name))
        return {"source": local_path, "target": os.path.join(self.path, name), "bytes": os.stat(local_path).st_size}


@pytest.fixture
def host(tmp_path, monkeypatch):
    """compute1: an instance directory with a qcow2 disk on a _base file, its running domain, its facts."""
    instances = tmp_path / "instances"
    base = instances / "_base" / "7a59e898ff7f55befd305e3ecf1ad853cb48115b"
    base.parent.mkdir(parents=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(base), "32M"], check=True)
    directory = instances / NAME
    directory.mkdir()
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(base), str(directory / "disk")],
                   check=True)
    (directory / "disk.config").write_bytes(b"iso")
    (directory / "libvirt.xml").write_text(DOMAIN)
    conn = FakeConnection()
    conn.defineXML(DOMAIN).state_code = RUNNING
    conn.remote_root = str(tmp_path / "target")
    monkeypatch.setattr(resize, "require_libraries", lambda: None)
    monkeypatch.setattr(resize, "libvirt_connection", lambda uri, read_only=False: contextlib.nullcontext(conn))
    monkeypatch.setattr(resize, "RemoteDirectory", FakeRemoteDirectory)
    monkeypatch.setattr(resize, "remove_sent", lambda c, path, sent, made, what: [os.unlink(p) for p in sent])
    FakeRemoteDirectory.fail_after = None
    return {"instances": instances, "dir": directory, "conn": conn, "facts": tmp_path / "novalite.fact",
            "target": tmp_path / "target" / str(directory).lstrip("/")}


def params(host, state, **instance):
    entry = {"name": NAME, "uuid": UUID, "same_host": False, "target_host": None, "target_uri": None,
             "target_instances_path": None, "record": RECORD, "new_flavor": BIGGER, "root_gb": 0}
    entry.update(instance)
    return {"state": state, "instances": [entry], "uri": "qemu:///system", "instances_path": str(host["instances"]),
            "facts_path": str(host["facts"]), "assume_prepared": False}


def migrations(host):
    return json.loads(host["facts"].read_text()).get("migrations", {}) if host["facts"].exists() else {}


def run(host, state, check_mode=False, **instance):
    return resize.ensure_state(FakeModule(params(host, state, **instance), check_mode))


def test_on_the_same_host_the_disk_is_copied_next_to_the_old_directory(host):
    checked = run(host, "migrated", check_mode=True, same_host=True)
    assert checked["changed"] and checked["instances"][0]["changes"][:2] == ["destroy", "undefine"]
    assert os.path.isdir(host["dir"]) and not migrations(host)

    result = run(host, "migrated", same_host=True)
    assert result["changed"]
    assert NAME not in host["conn"].domains
    resized = str(host["dir"]) + "_resize"
    assert sorted(os.listdir(resized)) == ["disk", "disk.config", "libvirt.xml"]
    assert sorted(os.listdir(host["dir"])) == ["disk.config", "disk.migrated"]
    migration = migrations(host)[UUID]
    assert migration["status"] == "finished" and migration["old_record"]["task_state"] is None
    assert migration["new_flavor"] == BIGGER and migration["dest_compute"] == "compute1"
    assert result["instances"][0]["disk"]["base_root_gb"] == 0
    assert run(host, "migrated", same_host=True)["changed"] is False  # a re-run
    assert run(host, "migrated", check_mode=True, same_host=True)["changed"] is False


def test_to_another_host_the_files_go_through_its_libvirtd(host):
    result = run(host, "migrated", target_host="compute2", target_uri="qemu+ssh://root@compute2/system")
    assert sorted(os.listdir(host["target"])) == ["disk.config", "disk.migrated"]
    assert [os.path.basename(s["target"]) for s in result["instances"][0]["sent"]] == ["disk.migrated", "disk.config"]
    assert not os.path.exists(host["dir"]) and migrations(host)[UUID]["dest_compute"] == "compute2"


def test_a_copy_that_fails_leaves_the_instance_running_here_as_it_was(host):
    FakeRemoteDirectory.fail_after = 1
    before = sorted(os.listdir(host["dir"]))
    with pytest.raises(NovaliteError) as failed:
        run(host, "migrated", target_host="compute2", target_uri="qemu+ssh://root@compute2/system")
    assert failed.value.details["failed_step"] == "copying the disk of %s to compute2" % NAME
    assert "the target went away" in failed.value.msg
    assert host["conn"].domains[NAME].state_code == RUNNING
    assert sorted(os.listdir(host["dir"])) == before and not os.path.exists(str(host["dir"]) + "_resize")
    assert os.listdir(host["target"]) == [] and not migrations(host)


def test_a_migration_needs_its_target_and_the_record(host):
    with pytest.raises(InvalidInput, match="needs target_host and target_uri"):
        run(host, "migrated")
    with pytest.raises(InvalidInput, match="record must be the instance's record"):
        run(host, "migrated", same_host=True, record={"uuid": "other"})


def test_finished_puts_the_migrated_disk_in_place_and_grows_it(host):
    run(host, "migrated", same_host=True)
    fresh = host["dir"] / "disk"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(fresh), "32M"], check=True)  # image_cache's
    checked = run(host, "finished", check_mode=True, root_gb=1)
    assert checked["instances"][0]["changes"] == ["use the migrated disk", "grow the disk to 1 GiB"]
    result = run(host, "finished", root_gb=1)
    assert result["instances"][0]["virtual_size"] == 1024 ** 3
    assert sorted(os.listdir(host["dir"])) == ["disk", "disk.config"]
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(fresh)], capture_output=True,
                                     text=True, check=True).stdout)
    assert info["virtual-size"] == 1024 ** 3 and info["backing-filename"].endswith("_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b")
    assert run(host, "finished", root_gb=1)["changed"] is False
    assert run(host, "finished", check_mode=True, root_gb=1)["changed"] is False
    subprocess.run(["qemu-img", "resize", "-q", str(fresh), "2G"], check=True)
    with pytest.raises(InvalidInput, match="larger than root_gb 1: a disk is never shrunk"):
        run(host, "finished", root_gb=1)


def test_finished_refuses_a_disk_whose_base_is_not_cached(host):
    run(host, "migrated", same_host=True)
    shutil.rmtree(host["instances"] / "_base")
    with pytest.raises(InvalidInput, match="is not cached here"):
        run(host, "finished", root_gb=1)


def test_confirmed_removes_the_old_directory_and_the_migration_record(host):
    run(host, "migrated", same_host=True)
    assert run(host, "confirmed", check_mode=True)["changed"] and migrations(host)
    result = run(host, "confirmed")
    assert result["changed"] and not os.path.exists(str(host["dir"]) + "_resize") and migrations(host) == {}
    assert run(host, "confirmed")["changed"] is False
    assert run(host, "confirmed", check_mode=True)["changed"] is False


def test_reverted_makes_the_old_directory_the_instance_directory_again(host):
    run(host, "migrated", same_host=True)
    with pytest.raises(InvalidInput, match="must be removed before a revert"):
        run(host, "reverted")
    shutil.rmtree(host["dir"])  # the resized instance's (libvirt_domain and image_cache state=absent)
    result = run(host, "reverted")
    assert result["instances"][0]["old_record"]["host"] == "compute1"
    assert sorted(os.listdir(host["dir"])) == ["disk", "disk.config", "libvirt.xml"] and migrations(host) == {}
    assert run(host, "reverted")["changed"] is False
    assert host["conn"].domains.get(NAME) is None  # libvirt_domain defines and starts it again
