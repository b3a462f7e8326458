"""The metadata trees (Nova's InstanceMetadata) and the server, on 127.0.0.x in a thread."""

import hashlib
import http.client
import json
import os
import threading
import types

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.network import metadata
from ansible_collections.novalite.compute.plugins.module_utils.network.metadata import (
    InstanceMetadata, NotFound, ec2_md_print, metadata_for_address)

NETWORK_ID = "e011b388-163b-4080-a083-bb63ebed7f6a"
RECORD = {"uuid": "8383fb3d-7dcf-4203-b639-14c617b55259", "id": 10, "name": "instance-0000000a", "hostname": "web",
          "display_name": "web", "reservation_id": "r-abcdefgh", "security_groups": ["default", "www"],
          "flavor": {"name": "m1.tiny"}, "image_ref": "66c50770-21a4-46ce-85ee-392f29b05081",
          "kernel_id": "aaaa0001-0000-0000-0000-000000000000", "key_data": "ssh-ed25519 AAAA k",
          "availability_zone": None, "metadata": {"role": "web"}, "network_info": []}


def instance(**changes):
    return InstanceMetadata(dict(RECORD, **changes), "web.novalocal", user_data="#!/bin/sh\n", admin_password="pw",
                            fixed_ip="10.1.0.2", floating_ip="192.168.96.129")


def test_the_version_lists_and_novas_ec2_tree():
    md = instance()
    assert md.lookup("/") == metadata.VERSIONS + ["latest"] and md.lookup("/openstack") == metadata.OPENSTACK_VERSIONS + [
        "latest"]
    assert ec2_md_print(md.lookup("/")).split("\n", maxsplit=1)[0] == "1.0"
    ec2 = md.lookup("/latest/meta-data/")
    assert ec2["instance-id"] == "i-0000000a" and ec2["ami-id"] == "ami-66c50770" and ec2["kernel-id"] == "aki-aaaa0001"
    assert (ec2["hostname"], ec2["local-hostname"], ec2["local-ipv4"], ec2["public-ipv4"]) == (
        "web.novalocal", "web.novalocal", "10.1.0.2", "192.168.96.129")
    assert ec2["ami-manifest-path"] == "FIXME" and ec2["instance-action"] == "none"
    assert ec2["placement"] == {"availability-zone": "nova"} and ec2["instance-type"] == "m1.tiny"
    assert ec2_md_print(md.lookup("/latest/meta-data/public-keys/")) == "0=default"
    assert ec2_md_print(md.lookup("/latest/meta-data/public-keys/0")) == "openssh-key"
    assert md.lookup("/latest/meta-data/public-keys/0/openssh-key") == "ssh-ed25519 AAAA k"
    assert ec2_md_print(md.lookup("/2009-04-04/meta-data/security-groups")) == "default\nwww"
    assert md.lookup("latest/user-data") == "#!/bin/sh\n"
    assert "local-hostname" not in md.lookup("/1.0/meta-data") and "placement" not in md.lookup(
        "/2007-12-15/meta-data")
    listing = ec2_md_print(md.lookup("/latest/meta-data"))
    assert "block-device-mapping/" in listing and "public-keys/" in listing and "pass" not in listing


def test_the_openstack_tree_carries_the_password_only_in_meta_data_json():
    md = instance()
    assert ec2_md_print(md.lookup("/openstack/latest")) == "meta_data.json\nnetwork_data.json\nuser_data\nvendor_data.json"
    latest = json.loads(md.lookup("/openstack/latest/meta_data.json"))
    assert latest["admin_pass"] == "pw" and latest["uuid"] == RECORD["uuid"] and latest["hostname"] == "web.novalocal"
    assert latest["public_keys"] == {"default": "ssh-ed25519 AAAA k"} and latest["meta"] == {"role": "web"}
    assert "random_seed" in latest and "random_seed" not in json.loads(md.lookup("/openstack/2012-08-10/meta_data.json"))
    assert json.loads(md.lookup("/openstack/2013-10-17/vendor_data.json")) == {}
    everything_else = json.dumps([md.lookup(p) for p in ("/latest/meta-data", "/2009-04-04/meta-data")])
    assert "pw" not in everything_else


@pytest.mark.parametrize("path", ["/latest/meta-data/nope", "/2010-01-01/meta-data", "/openstack/2099-01-01",
                                  "/latest/meta-data/instance-id/deeper", "/openstack/latest/password"])
def test_unknown_paths(path):
    with pytest.raises(NotFound):
        instance().lookup(path)
    with pytest.raises(NotFound):
        instance(key_data=None).lookup("/latest/meta-data/public-keys/")


def test_config_drive_files_as_novas_metadata_for_config_drive():
    files = dict(instance().config_drive_files())
    assert sorted(p for p in files if p.startswith("ec2/")) == [
        "ec2/2009-04-04/meta-data.json", "ec2/2009-04-04/user-data", "ec2/latest/meta-data.json", "ec2/latest/user-data"]
    assert json.loads(files["ec2/latest/meta-data.json"])["public-keys"] == {"0": {"openssh-key": "ssh-ed25519 AAAA k"}}
    assert "openstack/2013-04-04/network_data.json" in files


def document(address="127.0.0.1", network_id=NETWORK_ID):
    return {"fixed_ips": {address: {"address": address, "instance_uuid": RECORD["uuid"], "network_id": network_id}},
            "instances": {RECORD["uuid"]: RECORD},
            "networks": {NETWORK_ID: {"dhcp_domain": "example.test"}},
            "floating_associations": {"192.168.96.129": {"address": "192.168.96.129", "fixed_ip": address}}}


def test_only_a_fixed_ip_of_this_network_on_this_host_is_answered(tmp_path):
    found = metadata_for_address(document(), "127.0.0.1", NETWORK_ID, str(tmp_path))
    assert found.hostname == "web.example.test" and found.floating_ip == "192.168.96.129"
    assert found.user_data is None and found.admin_password is None
    assert metadata_for_address(document(), "127.0.0.2", NETWORK_ID, str(tmp_path)) is None
    assert metadata_for_address(document(network_id="other"), "127.0.0.1", NETWORK_ID, str(tmp_path)) is None
    broken = document()
    broken["instances"][RECORD["uuid"]] = dict(RECORD, name="../etc")
    assert metadata_for_address(broken, "127.0.0.1", NETWORK_ID, str(tmp_path)) is None


@pytest.fixture
def server(tmp_path):
    facts = tmp_path / "novalite.fact"
    facts.write_text(json.dumps(document()))
    secrets = tmp_path / "instances" / RECORD["name"]
    secrets.mkdir(parents=True)
    (secrets / metadata.USER_DATA_FILE).write_text("#!/bin/sh\necho hi\n")
    (secrets / metadata.ADMIN_PASSWORD_FILE).write_text("Adm1n-secret")
    config = types.SimpleNamespace(listen="127.0.0.1", port=0, network=NETWORK_ID, facts=str(facts),
                                   instances_path=str(tmp_path / "instances"))
    log = open(tmp_path / "access.log", "w")
    running = metadata.MetadataServer(config, log)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running, tmp_path / "access.log"
    running.shutdown()
    running.server_close()
    log.close()


def get(server, path, source="127.0.0.1"):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5,
                                            source_address=(source, 0))
    connection.request("GET", path, headers={"X-Forwarded-For": "127.0.0.2"})
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, body


def test_the_server_answers_its_instance_and_gives_strangers_404(server):
    running, log = server
    assert get(running, "/openstack/latest/user_data") == (200, "#!/bin/sh\necho hi\n")
    status, body = get(running, "/openstack/latest/meta_data.json")
    assert status == 200 and json.loads(body)["admin_pass"] == "Adm1n-secret"
    assert get(running, "/latest/meta-data/hostname") == (200, "web.example.test")
    assert get(running, "/latest/meta-data/nope")[0] == 404
    for path in ("/", "/openstack/latest/meta_data.json", "/latest/meta-data/instance-id"):
        assert get(running, path, source="127.0.0.2")[0] == 404  # X-Forwarded-For is never believed
    text = log.read_text()
    assert '127.0.0.1 "GET /openstack/latest/meta_data.json" 200' in text
    assert '127.0.0.2 "GET /" 404' in text
    assert "Adm1n-secret" not in text and "echo hi" not in text


def test_the_source_it_ships_is_this_file():
    from ansible_collections.novalite.compute.plugins.module_utils.network.metadata_service import server_source
    assert server_source() == open(metadata.__file__, encoding="utf-8").read()
    assert "ansible" not in "".join(line for line in server_source().splitlines() if line.startswith(("import", "from")))
    assert hashlib.sha256(server_source().encode()).hexdigest()
    assert os.path.basename(metadata.__file__) == "metadata.py"
