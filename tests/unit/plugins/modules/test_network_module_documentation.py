"""The network modules' documented defaults (literals, for ansible-doc) against the specs' constants."""

import yaml

from ansible_collections.novalite.compute.plugins.module_utils.network.argument_specs import NOVA_NETWORK_SPEC
from ansible_collections.novalite.compute.plugins.modules import ipam_allocate, nova_network
from ansible_collections.novalite.compute.plugins.plugin_utils.ipam import IPAM_ALLOCATE_SPEC
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented


def test_nova_network_documentation_matches_its_argument_spec(monkeypatch):
    # the harness reads the spec from the module, which imports it under another name
    monkeypatch.setattr(nova_network, "ARGUMENT_SPEC", NOVA_NETWORK_SPEC, raising=False)
    assert_documented(nova_network)


def test_ipam_allocate_documents_the_defaults_of_its_argument_spec():
    documented = yaml.safe_load(ipam_allocate.DOCUMENTATION)["options"]
    assert sorted(documented) == sorted(IPAM_ALLOCATE_SPEC)
    for name, option in IPAM_ALLOCATE_SPEC.items():
        assert documented[name].get("default") == option.get("default"), name
        assert documented[name].get("type", "str") == option.get("type", "str"), name
