"""DOCUMENTATION of the modules without their own module test file, against their argument specs."""

import pytest

from ansible_collections.novalite.compute.plugins.modules import image_cache
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented


@pytest.mark.parametrize("module", [image_cache], ids=lambda module: module.__name__.rsplit(".", 1)[1])
def test_documentation_matches_the_argument_spec(module):
    assert_documented(module)
