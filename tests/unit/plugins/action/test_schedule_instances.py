"""The scheduler action's arguments (documented in plugins/modules/schedule_instances.py) and its hostvars."""

import types

import pytest

from ansible_collections.novalite.compute.plugins.action import schedule_instances as action
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.modules import schedule_instances as documentation
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented


def test_documentation_matches_the_action_argument_spec():
    assert_documented(types.SimpleNamespace(DOCUMENTATION=documentation.DOCUMENTATION, EXAMPLES=documentation.EXAMPLES,
                                            RETURN=documentation.RETURN, ARGUMENT_SPEC=action.ARGUMENT_SPEC))


def test_a_host_without_the_compute_node_fact_is_named():
    with pytest.raises(NovaliteError, match="host compute1 has no novalite_compute_node fact"):
        action.host_states({"compute1": {}}, ["compute1"], {})
