import errno
import json
import os
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import (
    CommandFailed, InvalidInput, NovaliteError)
from ansible_collections.novalite.compute.plugins.module_utils.compute.config_drive import (
    ensure_config_drives, make_config_drive, meta_data, write_tree)
from ansible_collections.novalite.compute.plugins.module_utils.network.metadata import network_data

RECORD = {"uuid": "8383fb3d-7dcf-4203-b639-14c617b55259", "name": "instance-00000001", "display_name": "test",
          "hostname": "test",
          "metadata": {"role": "web"}, "key_data": "ssh-ed25519 AAAA test",
          "network_info": [{"id": "99a3c937-1a0f-48f7-8015-166d7644e9a0", "address": "fa:16:3e:5a:f4:23",
                            "network": {"id": "e011b388-163b-4080-a083-bb63ebed7f6a", "subnets": [
                                {"dns": [{"address": "8.8.4.4"}]}]}}]}


def test_meta_data_shape():
    data = meta_data(RECORD, admin_password="123456", injected_files=[{"path": "/etc/motd", "contents": "hi"}])
    # Nova's _get_hostname: the hostname in the network's domain (novalocal unless the VIF says otherwise)
    assert data["uuid"] == RECORD["uuid"] and data["hostname"] == "test.novalocal" and data["name"] == "test"
    assert data["public_keys"] == {"default": "ssh-ed25519 AAAA test"}
    assert data["admin_pass"] == "123456" and data["meta"] == {"role": "web"}
    assert data["files"] == [{"path": "/etc/motd", "content_path": "/content/0000"}]
    assert len(data["random_seed"]) == 684 and data["launch_index"] == 0
    bare = meta_data({"uuid": RECORD["uuid"], "hostname": "t", "display_name": "t"})
    assert "admin_pass" not in bare and "public_keys" not in bare and "meta" not in bare and "files" not in bare


def test_network_data_one_dhcp_network_per_vif():
    data = network_data(RECORD["network_info"])
    assert data["links"][0]["ethernet_mac_address"] == "fa:16:3e:5a:f4:23"
    assert data["networks"][0]["type"] == "ipv4_dhcp"
    assert data["services"] == [{"type": "dns", "address": "8.8.4.4"}]


def test_tree_layout(tmp_path):
    write_tree(str(tmp_path / "t"), RECORD, user_data="#!/bin/sh\n", injected_files=[{"path": "/a", "contents": "A"}])
    latest = tmp_path / "t" / "openstack" / "latest"
    assert json.loads((latest / "meta_data.json").read_text())["uuid"] == RECORD["uuid"]
    assert (latest / "user_data").read_text() == "#!/bin/sh\n"
    assert (latest / "network_data.json").exists() and json.loads((latest / "vendor_data.json").read_text()) == {}
    assert (tmp_path / "t" / "openstack" / "content" / "0000").read_text() == "A"
    # Nova's metadata_for_config_drive: every OpenStack version, EC2 from 2009-04-04
    assert sorted(p.name for p in (tmp_path / "t" / "openstack").iterdir()) == [
        "2012-08-10", "2013-04-04", "2013-10-17", "content", "latest"]
    assert sorted(p.name for p in (tmp_path / "t" / "ec2").iterdir()) == ["2009-04-04", "latest"]
    ec2 = json.loads((tmp_path / "t" / "ec2" / "latest" / "meta-data.json").read_text())
    assert ec2["public-keys"] == {"0": {"openssh-key": "ssh-ed25519 AAAA test"}} and ec2["hostname"] == "test.novalocal"
    assert (tmp_path / "t" / "ec2" / "latest" / "user-data").read_text() == "#!/bin/sh\n"


def real_run(args, **_kwargs):
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def test_iso_has_config_2_label(tmp_path):
    target = tmp_path / "disk.config"
    make_config_drive(real_run, "genisoimage", str(target), RECORD, "novalite.compute", user_data="x")
    with open(target, "rb") as iso:
        iso.seek(32808)
        assert iso.read(32).decode().strip() == "config-2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk.config"]


def test_failed_tool_leaves_nothing(tmp_path):
    target = tmp_path / "disk.config"
    with pytest.raises(CommandFailed):
        make_config_drive(lambda args, **kw: (1, "", "boom"), "genisoimage", str(target), RECORD, "p")
    assert list(tmp_path.iterdir()) == []


def batch_module(tmp_path, instances, state="present", run_command=real_run):
    params = {"instances": instances, "instances_path": str(tmp_path), "state": state, "user_data": "x",
              "admin_password": None, "injected_files": []}
    return SimpleNamespace(params=params, check_mode=False, run_command=run_command,
                           get_bin_path=shutil.which)


def instance(number, **fields):
    return dict(RECORD, **dict({"uuid": "00000000-0000-4000-8000-%012d" % number, "name": "instance-%08x" % number,
                                "config_drive": True}, **fields))


def test_a_batch_builds_each_drive_in_its_instance_dir_and_a_rerun_changes_nothing(tmp_path):
    instances = [instance(1), instance(2)]
    assert ensure_config_drives(batch_module(tmp_path, instances))["changed"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instance-00000001", "instance-00000002"]
    assert (tmp_path / "instance-00000002" / "disk.config").stat().st_size > 0
    assert ensure_config_drives(batch_module(tmp_path, instances))["changed"] is False


def test_a_failed_build_removes_the_drives_and_directories_this_call_made(tmp_path):
    kept = tmp_path / "instance-00000001"
    kept.mkdir()  # made by the image step before: stays, without a drive

    def fail_second(args, **kwargs):
        return (1, "", "boom") if "instance-00000002" in args[2] else real_run(args, **kwargs)

    with pytest.raises(NovaliteError) as caught:
        ensure_config_drives(batch_module(tmp_path, [instance(1), instance(2)], run_command=fail_second))
    assert caught.value.details["failed_step"].startswith("build config drive %s" % (tmp_path / "instance-00000002"))
    assert len(caught.value.details["rolled_back"]) == 4  # two drives, two instances' secrets
    assert [p.name for p in tmp_path.iterdir()] == ["instance-00000001"] and list(kept.iterdir()) == []


def test_a_failed_removal_puts_back_the_drives_already_removed(monkeypatch, tmp_path):
    instances = [instance(1), instance(2)]
    ensure_config_drives(batch_module(tmp_path, instances))
    real_rename = os.rename

    def refuse_second(source, target):
        if "instance-00000002" in source:
            raise PermissionError(errno.EACCES, "Permission denied", source)
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", refuse_second)
    with pytest.raises(NovaliteError, match="^remove config drive .*instance-00000002/disk.config: Permission denied"):
        ensure_config_drives(batch_module(tmp_path, instances, state="absent"))
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path / "instance-00000001")) == ["disk.config", "user_data"]
    assert sorted(os.listdir(tmp_path / "instance-00000002")) == ["disk.config", "user_data"]


def test_secrets_are_root_only_files_written_once_with_or_without_a_drive(tmp_path):
    module = batch_module(tmp_path, [instance(1, config_drive=False)])
    module.params.update(user_data="#!/bin/sh\necho hi\n", admin_password="s3cret")
    result = ensure_config_drives(module)
    directory = tmp_path / "instance-00000001"
    assert result["changed"] and sorted(os.listdir(directory)) == ["admin_password", "user_data"]
    assert (directory / "admin_password").read_text() == "s3cret"
    assert all((directory / name).stat().st_mode & 0o777 == 0o600 for name in ("admin_password", "user_data"))
    assert "s3cret" not in json.dumps(result) and result["secrets"] == {instance(1)["uuid"]: [
        "admin_password", "user_data"]}
    module.params.update(admin_password="other")
    again = ensure_config_drives(module)
    assert again["changed"] is False and (directory / "admin_password").read_text() == "s3cret"


@pytest.mark.parametrize("fields, message", [
    ({"name": "../escape"}, r"instances\[1\].name '../escape'"),
    ({"uuid": "not-a-uuid"}, r"instances\[1\].uuid 'not-a-uuid': expected a UUID"),
    ({"display_name": "two\nlines"}, r"instances\[1\].display_name .*one line"),
    ({"hostname": "no_underscores"}, r"instances\[1\].hostname .*DNS label"),
], ids=["name", "uuid", "display name", "hostname"])
def test_bad_records_are_refused_before_anything_is_written(tmp_path, fields, message):
    with pytest.raises(InvalidInput, match=message):
        ensure_config_drives(batch_module(tmp_path, [instance(1), instance(2, **fields)]))
    assert list(tmp_path.iterdir()) == []
