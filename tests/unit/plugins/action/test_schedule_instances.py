"""The scheduler action's arguments, documented in plugins/modules/schedule_instances.py.

Reading the hosts' facts and placing the instances is tested in tests/unit/plugins/plugin_utils/test_scheduler.py.
"""

import types

from ansible_collections.novalite.compute.plugins.action import schedule_instances as action
from ansible_collections.novalite.compute.plugins.modules import schedule_instances as documentation
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented


def test_documentation_matches_the_action_argument_spec():
    assert_documented(types.SimpleNamespace(DOCUMENTATION=documentation.DOCUMENTATION, EXAMPLES=documentation.EXAMPLES,
                                            RETURN=documentation.RETURN, ARGUMENT_SPEC=action.ARGUMENT_SPEC))
