import json
import subprocess

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import CommandFailed
from ansible_collections.novalite.compute.plugins.module_utils.compute.config_drive import (
    make_config_drive, meta_data, network_data, write_tree)

RECORD = {"uuid": "8383fb3d-7dcf-4203-b639-14c617b55259", "display_name": "test", "hostname": "test",
          "metadata": {"role": "web"}, "key_data": "ssh-ed25519 AAAA test",
          "network_info": [{"id": "99a3c937-1a0f-48f7-8015-166d7644e9a0", "address": "fa:16:3e:5a:f4:23",
                            "network": {"id": "e011b388-163b-4080-a083-bb63ebed7f6a", "subnets": [
                                {"dns": [{"address": "8.8.4.4"}]}]}}]}


def test_meta_data_shape():
    data = meta_data(RECORD, admin_password="123456", injected_files=[{"path": "/etc/motd", "contents": "hi"}])
    assert data["uuid"] == RECORD["uuid"] and data["hostname"] == "test" and data["name"] == "test"
    assert data["public_keys"] == {"default": "ssh-ed25519 AAAA test"}
    assert data["admin_pass"] == "123456" and data["meta"] == {"role": "web"}
    assert data["files"] == [{"path": "/etc/motd", "content_path": "/content/0000"}]
    assert "admin_pass" not in meta_data(RECORD)


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
    assert (latest / "network_data.json").exists()
    assert (tmp_path / "t" / "openstack" / "content" / "0000").read_text() == "A"


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
