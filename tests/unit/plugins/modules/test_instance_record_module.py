"""The instance_record module's documentation against its argument spec."""

from ansible_collections.novalite.compute.plugins.modules import instance_record
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented


def test_documentation_matches_the_argument_spec():
    assert_documented(instance_record)
