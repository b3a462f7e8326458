"""The request action: its documented arguments, and a bad request refused before any id is handed out.

Every field kind of the request is checked here with the rules the modules apply on the hosts;
a refusal leaves the controller's state directory untouched (no ledger, not even its lock).
"""

import types

import pytest

from ansible_collections.novalite.compute.plugins.action import instance_request as action
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.modules import instance_request as documentation
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented
from ansible_collections.novalite.compute.tests.unit.plugins.plugin_utils.test_request import (
    IMAGE_FIELDS, KERNEL, RAMDISK)

PRIVATE = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
           "bridge": "br100", "bridge_interface": "eth0", "multi_host": True, "dns1": "8.8.4.4"}
WEB = {"name": "web", "rules": [{"protocol": "tcp", "port": 443}, {"protocol": "icmp", "cidr": "10.0.0.0/8"}]}


def catalog(image_location="https://images.example/disk.qcow2", **fields):
    """The test image with its kernel and ramdisk, each with a location."""
    return [dict(IMAGE_FIELDS, location=image_location, **fields),
            {"id": KERNEL, "name": "kernel", "disk_format": "aki", "container_format": "aki",
             "location": "https://images.example/vmlinuz"},
            {"id": RAMDISK, "name": "ramdisk", "disk_format": "ari", "container_format": "ari",
             "location": "https://images.example/initrd.img"}]


def test_documentation_matches_the_action_argument_spec():
    assert_documented(types.SimpleNamespace(DOCUMENTATION=documentation.DOCUMENTATION, EXAMPLES=documentation.EXAMPLES,
                                            RETURN=documentation.RETURN, ARGUMENT_SPEC=action.ARGUMENT_SPEC))


def action_args(tmp_path, **overrides):
    args = {name: spec.get("default") for name, spec in action.ARGUMENT_SPEC.items()}
    args.update(name="test", image="cirros-test-image", images=catalog(), project_id="p1",
                user_id="u1", hosts=["compute1"], state_dir=str(tmp_path), networks={"private": PRIVATE},
                security_group_definitions=[WEB])
    args.update(overrides)
    return args


HOSTVARS = {"compute1": {"ansible_local": {}}}


def test_refuses_a_newline_in_the_name_before_any_id_is_handed_out(tmp_path):
    with pytest.raises(InvalidInput, match="expected text on one line"):
        action.request_instances(action_args(tmp_path, name="evil\nname"), HOSTVARS, check_mode=False)
    assert list(tmp_path.iterdir()) == []  # no ledger, not even its lock
    result = action.request_instances(action_args(tmp_path), HOSTVARS, check_mode=False)
    assert result["changed"] and [r["name"] for r in result["instances"]] == ["instance-00000001"]
    assert (tmp_path / "reservations.json").exists()


def test_check_mode_hands_out_no_id_and_touches_nothing(tmp_path):
    result = action.request_instances(action_args(tmp_path, count=2), HOSTVARS, check_mode=True)
    assert result["changed"] and len(result["created"]) == 2
    assert list(tmp_path.iterdir()) == []  # no ledger, not even its lock


def test_returns_the_checked_network_and_group_definitions(tmp_path):
    result = action.request_instances(action_args(tmp_path, security_groups=["default", "web"]), HOSTVARS,
                                      check_mode=True)
    network = result["network"]
    assert network["uuid"] == PRIVATE["uuid"] and network["gateway"] == "10.1.0.1"
    assert network["netmask"] == "255.255.0.0" and network["dhcp_domain"] == "novalocal"
    assert result["security_group_definitions"] == [WEB]
    assert result["instances"][0]["security_groups"] == ["default", "web"]


def test_without_network_definitions_only_the_label_is_checked(tmp_path):
    result = action.request_instances(action_args(tmp_path, networks=None), HOSTVARS, check_mode=True)
    assert result["network"] is None


def bad_rule(**rule):
    return [{"name": "web", "rules": [dict({"protocol": "tcp"}, **rule)]}]


REFUSALS = {
    # field kind: (overrides, message)
    "display name": ({"name": "a\tb"}, "expected text on one line"),
    "display name too long": ({"name": "x" * 256}, "at most 255"),
    "name gives no hostname": ({"name": "---"}, "gives no usable hostname"),
    "count": ({"count": 0}, "count 0: expected a whole number"),
    "metadata value": ({"metadata": {"role": "web\nserver"}}, "metadata role"),
    "metadata nested": ({"metadata": {"role": {"a": 1}}}, "expected text or a number"),
    "metadata quota": ({"metadata": {"k%d" % i: "v" for i in range(129)}}, "quota exceeded for metadata_items"),
    "user data size": ({"user_data": "x" * 60000}, "user_data is 80000 bytes"),
    "key": ({"key_data": "ssh-ed25519 AAAA\nsecond line"}, "key_data"),
    "admin password": ({"admin_password": "pass\nword"}, r"admin_password: expected text on one line.*not shown"),
    "security group name": ({"security_groups": ["bad name"]}, "security group 'bad name'"),
    "unknown security group": ({"security_groups": ["db"]}, "security group db .* is neither in security_groups"),
    "duplicate security group": ({"security_groups": ["web", "web"]}, "security_groups"),
    "rule port": ({"security_group_definitions": bad_rule(port=70000)}, "port 70000"),
    "rule protocol": ({"security_group_definitions": [{"name": "web", "rules": [{"protocol": "gre"}]}]},
                      "protocol 'gre'"),
    "rule cidr": ({"security_group_definitions": bad_rule(cidr="10.0.0.300/8")}, "cidr"),
    "rule unknown field": ({"security_group_definitions": bad_rule(ports=22)}, "ports"),
    "unknown network": ({"network": "public"}, "unknown network 'public' .defined: private."),
    "network cidr": ({"networks": {"private": dict(PRIVATE, cidr="10.1.0.0/31")}}, "network private: .*too small"),
    "network field": ({"networks": {"private": dict(PRIVATE, gatway="10.1.0.1")}}, "network private: .*gatway"),
    "network bridge": ({"networks": {"private": dict(PRIVATE, bridge="br 100")}}, "network private: .*bridge"),
    "network label": ({"networks": {"private": dict(PRIVATE, label="other")}}, "its label is 'other'"),
    "image location outside the image dirs": ({"images": catalog("file:///etc/shadow")},
                                              "resolves to /etc/shadow: local image files are refused"),
    "image scheme": ({"images": catalog("ftp://images.example/disk")}, "expected an absolute path or a file://"),
    "image scheme not allowed": ({"image_schemes": ["https"], "images": catalog("http://images.example/disk")},
                                 "http:// is not an allowed scheme here"),
    "kernel missing": ({"images": catalog()[:1] + catalog()[2:]}, "image '%s' is not in" % KERNEL),
    "target host": ({"target_host": "compute9"}, "target_host compute9 is not one of the compute hosts"),
}


@pytest.mark.parametrize("overrides, message", REFUSALS.values(), ids=list(REFUSALS))
def test_every_field_is_refused_before_anything_is_allocated(tmp_path, overrides, message):
    with pytest.raises(NovaliteError, match=message) as refused:
        action.request_instances(action_args(tmp_path, **overrides), HOSTVARS, check_mode=False)
    assert list(tmp_path.iterdir()) == []
    assert "pass\nword" not in str(refused.value)


def test_local_image_files_only_inside_the_catalog_or_image_dirs(tmp_path):
    images = tmp_path / "images"
    (images / "sub").mkdir(parents=True)
    (images / "sub" / "disk.qcow2").write_bytes(b"")
    (tmp_path / "escape").symlink_to("/etc")
    state = tmp_path / "state"
    local = catalog("file://%s/sub/disk.qcow2" % images)
    with pytest.raises(InvalidInput, match="local image files are refused"):
        action.request_instances(action_args(state, images=local), HOSTVARS, check_mode=True)
    action.request_instances(action_args(state, images=local, image_dirs=[str(images)]), HOSTVARS, check_mode=True)
    escaping = catalog("%s/escape/shadow" % tmp_path)
    with pytest.raises(InvalidInput, match="resolves to /etc/shadow"):
        action.request_instances(action_args(state, images=escaping, image_dirs=[str(tmp_path)]), HOSTVARS,
                                 check_mode=True)
    catalog_file = images / "catalog.json"
    catalog_file.write_text(__import__("json").dumps(local))
    result = action.request_instances(action_args(state, images=None, catalog=str(catalog_file)), HOSTVARS,
                                      check_mode=True)
    assert result["image"]["location"].endswith("/sub/disk.qcow2")  # the catalog's own directory is allowed


@pytest.mark.parametrize("given, wanted", [
    ({}, False), ({"key_data": "ssh-ed25519 AAAA k"}, True), ({"user_data": "#!/bin/sh"}, True),
    ({"admin_password": "secret"}, True), ({"user_data": "#!/bin/sh", "config_drive": False}, False),
])
def test_a_config_drive_is_implied_by_what_only_it_can_carry(tmp_path, given, wanted):
    assert action.wants_config_drive(action_args(tmp_path, **given)) is wanted
