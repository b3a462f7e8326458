"""The network modules' documented defaults (literals, for ansible-doc) against the specs' constants."""

import types

import pytest
import yaml

from ansible_collections.novalite.compute.plugins.doc_fragments import floating as floating_fragment
from ansible_collections.novalite.compute.plugins.doc_fragments.network import ModuleDocFragment
from ansible_collections.novalite.compute.plugins.modules import ipam_allocate, nova_network
from ansible_collections.novalite.compute.plugins.plugin_utils.ipam import IPAM_ALLOCATE_SPEC
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented


def with_network_fragment(module, spec):
    """The module as ansible-doc shows it: its own options and those of the network (and floating) fragments."""
    documentation = yaml.safe_load(module.DOCUMENTATION)
    fragments = documentation["extends_documentation_fragment"]
    if "novalite.compute.network" in fragments:
        documentation["options"].update(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    if "novalite.compute.floating" in fragments:
        documentation["options"].update(yaml.safe_load(floating_fragment.ModuleDocFragment.DOCUMENTATION)["options"])
    return types.SimpleNamespace(DOCUMENTATION=yaml.safe_dump(documentation), ARGUMENT_SPEC=spec,
                                 EXAMPLES=module.EXAMPLES, RETURN=module.RETURN)


def test_nova_network_documentation_matches_its_argument_spec():
    assert_documented(with_network_fragment(nova_network, nova_network.ARGUMENT_SPEC))


def test_ipam_allocate_documentation_matches_its_argument_spec():
    # a documentation-only module: its spec lives beside the action's work
    assert_documented(with_network_fragment(ipam_allocate, IPAM_ALLOCATE_SPEC))


@pytest.mark.parametrize("module", [nova_network, ipam_allocate], ids=["nova_network", "ipam_allocate"])
def test_every_return_value_has_a_sample_and_dicts_say_what_they_contain(module):
    for name, value in yaml.safe_load(module.RETURN).items():
        assert "sample" in value, name
        if value["type"] == "dict" or value.get("elements") == "dict":
            assert "contains" in value, name
        for key, inner in value.get("contains", {}).items():
            assert inner.get("description") and "sample" in inner, "%s.%s" % (name, key)


def test_floating_ip_modules_documentation_matches_their_argument_specs():
    from ansible_collections.novalite.compute.plugins.modules import floating_ip, floating_ip_request
    from ansible_collections.novalite.compute.plugins.plugin_utils.floating_request import FLOATING_IP_REQUEST_SPEC
    assert_documented(floating_ip)
    assert_documented(with_network_fragment(floating_ip_request, FLOATING_IP_REQUEST_SPEC))
    for module in (floating_ip, floating_ip_request):
        for name, value in yaml.safe_load(module.RETURN).items():
            assert "sample" in value, name
            if value["type"] == "dict" or value.get("elements") == "dict":
                assert "contains" in value, name
