"""The image_cache action plugin against a fake connection whose "host" runs the real module logic:
module calls and transfers counted, warm and cold, check mode, and what is never sent."""

import os
import shutil
import types

import pytest
import yaml
from ansible.errors import AnsibleConnectionFailure

from ansible_collections.novalite.compute.plugins.action.image_cache import ActionModule
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.image.service import ImageCacheRequest, run
from ansible_collections.novalite.compute.plugins.modules.image_cache import ARGUMENT_SPEC
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.image.conftest import (  # noqa: F401 pylint: disable=unused-import
    IMAGE_ID, KERNEL_ID, RAMDISK_ID, TOOLS, FakeHost, images)

ALL = sorted([IMAGE_ID, KERNEL_ID, RAMDISK_ID])


class FakeConnection:
    """The transfer side of a connection into a host that does not see the controller's files."""

    def __init__(self, root):
        self.root = root
        self.sent = []
        self.fail_transfer = False
        self._shell = types.SimpleNamespace(tmpdir=None, join_path=os.path.join)


class Harness:
    def __init__(self, tmp_path, args, check_mode=False):
        self.host = FakeHost()
        self.connection = FakeConnection(tmp_path)
        self.calls = []
        self.removed = []
        task = types.SimpleNamespace(args=args, check_mode=check_mode, async_val=0,
                                     action="novalite.compute.image_cache")
        self.action = ActionModule(task, self.connection, play_context=None, loader=None, templar=None)
        self.action._execute_module = self._execute_module
        self.action._make_tmp_path = self._make_tmp_path
        self.action._transfer_file = self._transfer_file
        self.action._fixup_perms2 = lambda paths, execute=True: paths
        self.action._remove_tmp_path = self._remove_tmp_path
        self.check_mode = check_mode

    def _execute_module(self, module_name=None, module_args=None, task_vars=None):
        """The module on the host, with Ansible's defaults and the task's temporary directory."""
        assert module_name == "novalite.compute.image_cache"
        args = dict(module_args if module_args is not None else self.action._task.args)
        self.calls.append(args)
        params = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
        params.update(args)
        request = ImageCacheRequest(params, staging_dir=self.connection._shell.tmpdir)
        try:
            return run(request, self.host, TOOLS, check_mode=self.check_mode)
        except NovaliteError as exc:
            return dict(exc.details, failed=True, msg=exc.msg)

    def _make_tmp_path(self):
        path = self.connection.root / ("ansible-tmp-%d" % len(self.removed))
        path.mkdir()
        self.connection._shell.tmpdir = str(path)
        return str(path)

    def _transfer_file(self, local_path, remote_path):
        if self.connection.fail_transfer:
            raise AnsibleConnectionFailure("sftp transfer failed")
        self.connection.sent.append((local_path, os.path.basename(remote_path)))
        shutil.copyfile(local_path, remote_path)
        return remote_path

    def _remove_tmp_path(self, tmp_path):
        if tmp_path:
            shutil.rmtree(tmp_path, ignore_errors=True)
            self.removed.append(tmp_path)
            self.connection._shell.tmpdir = None

    def run(self):
        return self.action.run(task_vars={})


@pytest.fixture
def catalog(tmp_path, images):  # noqa: F811
    path = tmp_path / "store" / "catalog.yml"
    path.write_text(yaml.safe_dump(images))  # the README's form: a plain list
    return path


def args(tmp_path, catalog, name="instance-00000001", **extra):
    return dict({"instances_path": str(tmp_path / "host" / "instances"), "controller_catalog": str(catalog),
                 "instances": [{"name": name, "image_id": "disk"}], "lock_timeout": 5}, **extra)


def test_cold_host_gets_what_it_lacks_in_two_calls_and_a_warm_one_costs_one(tmp_path, catalog):
    cold = Harness(tmp_path, args(tmp_path, catalog))
    result = cold.run()
    assert not result.get("failed"), result
    assert result["changed"] and result["delivered"] == ALL and result["delivery_needed"] == []
    assert len(cold.calls) == 2
    store = tmp_path / "store"
    assert sorted(cold.connection.sent) == sorted([
        (str(store / "disk.qcow2"), "novalite-image-" + IMAGE_ID),
        (str(store / "vmlinuz"), "novalite-image-" + KERNEL_ID),
        (str(store / "initrd"), "novalite-image-" + RAMDISK_ID)])
    assert "controller_catalog" not in cold.calls[0] and cold.calls[0]["delivered_images"] == ALL
    assert len(cold.removed) == 1 and not os.path.exists(cold.removed[0])  # the temporary directory went
    for name in ("instance-00000001", "instance-00000002"):  # the same instance again, and a new one
        warm = Harness(tmp_path, args(tmp_path, catalog, name=name))
        again = warm.run()
        assert not again.get("failed") and again["delivered"] == [] and warm.connection.sent == []
        assert len(warm.calls) == 1 and again["changed"] is (name == "instance-00000002")


def test_check_mode_sends_nothing_and_says_what_it_would(tmp_path, catalog):
    harness = Harness(tmp_path, args(tmp_path, catalog), check_mode=True)
    result = harness.run()
    assert result["changed"] and result["delivery_needed"] == ALL and result["delivered"] == []
    assert len(harness.calls) == 1 and harness.connection.sent == []
    assert not (tmp_path / "host").exists()


def test_a_bad_catalog_fails_before_any_module_call(tmp_path, catalog):
    catalog.write_text(yaml.safe_dump({"glance": []}))
    harness = Harness(tmp_path, args(tmp_path, catalog))
    result = harness.run()
    assert result["failed"] and result["msg"].startswith("catalog %s is not a catalog" % catalog)
    assert harness.calls == [] and harness.connection.sent == []


def test_a_location_outside_the_image_dirs_is_refused_before_anything_is_sent(tmp_path, catalog, images):  # noqa: F811
    secret = tmp_path / "secret"
    secret.write_bytes(b"kernel-bytes" * 100)
    images[0]["location"] = "file://%s" % secret
    catalog.write_text(yaml.safe_dump(images))
    harness = Harness(tmp_path, args(tmp_path, catalog))
    result = harness.run()
    assert result["failed"] and "resolves to %s: local image files are read only from inside %s" % (
        secret, tmp_path / "store") in result["msg"]
    assert harness.calls == [] and harness.connection.sent == []


def test_a_corrupted_transfer_is_refused_and_nothing_stays(tmp_path, catalog, images):  # noqa: F811
    disk = tmp_path / "store" / "disk.qcow2"
    data = bytearray(disk.read_bytes())
    data[-1] ^= 0xFF
    disk.write_bytes(bytes(data))  # the controller's file no longer matches its record
    harness = Harness(tmp_path, args(tmp_path, catalog))
    result = harness.run()
    assert result["failed"] and "checksum mismatch for image %s" % IMAGE_ID in result["msg"], result
    assert len(harness.calls) == 2 and len(harness.connection.sent) == 3
    assert harness.removed and not any(os.path.exists(p) for p in harness.removed)
    base = tmp_path / "host" / "instances" / "_base"
    assert not [n for n in os.listdir(base) if n.endswith((".part", ".converted"))]
    assert not os.path.exists(tmp_path / "host" / "instances" / "instance-00000001")


def test_a_failed_transfer_fails_the_task_naming_the_image(tmp_path, catalog):
    harness = Harness(tmp_path, args(tmp_path, catalog))
    harness.connection.fail_transfer = True
    result = harness.run()
    assert result["failed"] and "cannot send image " in result["msg"] and "sftp transfer failed" in result["msg"]
    assert len(harness.calls) == 1 and harness.removed


def test_copies_the_module_cannot_find_fail_instead_of_looping(tmp_path, catalog):
    harness = Harness(tmp_path, args(tmp_path, catalog))
    execute = harness._execute_module

    def become_unprivileged(**kwargs):  # Ansible hands such a module no _ansible_tmpdir
        tmpdir, harness.connection._shell.tmpdir = harness.connection._shell.tmpdir, None
        try:
            return execute(**kwargs)
        finally:
            harness.connection._shell.tmpdir = tmpdir
    harness.action._execute_module = become_unprivileged
    result = harness.run()
    assert result["failed"] and "the module did not find them there" in result["msg"]
    assert len(harness.calls) == 2


def test_without_controller_catalog_the_module_runs_as_it_is(tmp_path, catalog):
    plain = {"instances_path": str(tmp_path / "host" / "instances"), "catalog": str(catalog),
             "instances": [{"name": "instance-00000001", "image_id": "disk"}]}
    harness = Harness(tmp_path, plain)
    result = harness.run()
    assert result["changed"] and "delivered" not in result and harness.connection.sent == []
    assert harness.calls == [plain]
