"""The request action: its documented arguments, and a bad request refused before any id is handed out."""

import types

import pytest

from ansible_collections.novalite.compute.plugins.action import instance_request as action
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.modules import instance_request as documentation
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented
from ansible_collections.novalite.compute.tests.unit.plugins.plugin_utils.test_request import IMAGE_FIELDS


def test_documentation_matches_the_action_argument_spec():
    assert_documented(types.SimpleNamespace(DOCUMENTATION=documentation.DOCUMENTATION, EXAMPLES=documentation.EXAMPLES,
                                            RETURN=documentation.RETURN, ARGUMENT_SPEC=action.ARGUMENT_SPEC))


def action_args(tmp_path, **overrides):
    args = {name: spec.get("default") for name, spec in action.ARGUMENT_SPEC.items()}
    args.update(name="test", image="cirros-test-image", images=[dict(IMAGE_FIELDS)], project_id="p1",
                user_id="u1", hosts=["compute1"], state_dir=str(tmp_path))
    args.update(overrides)
    return args


def test_refuses_a_newline_in_the_name_before_any_id_is_handed_out(tmp_path):
    hostvars = {"compute1": {"ansible_local": {}}}
    with pytest.raises(InvalidInput, match="expected text on one line"):
        action.request_instances(action_args(tmp_path, name="evil\nname"), hostvars, check_mode=False)
    assert list(tmp_path.iterdir()) == []  # no ledger, not even its lock
    result = action.request_instances(action_args(tmp_path), hostvars, check_mode=False)
    assert result["changed"] and [r["name"] for r in result["instances"]] == ["instance-00000001"]
    assert (tmp_path / "reservations.json").exists()


def test_check_mode_hands_out_no_id(tmp_path):
    hostvars = {"compute1": {"ansible_local": {}}}
    result = action.request_instances(action_args(tmp_path, count=2), hostvars, check_mode=True)
    assert result["changed"] and len(result["created"]) == 2
    assert not (tmp_path / "reservations.json").exists()


@pytest.mark.parametrize("given, wanted", [
    ({}, False), ({"key_data": "ssh-ed25519 AAAA k"}, True), ({"user_data": "#!/bin/sh"}, True),
    ({"admin_password": "secret"}, True), ({"user_data": "#!/bin/sh", "config_drive": False}, False),
])
def test_a_config_drive_is_implied_by_what_only_it_can_carry(tmp_path, given, wanted):
    assert action.wants_config_drive(action_args(tmp_path, **given)) is wanted
