import copy

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import empty_document
from ansible_collections.novalite.compute.plugins.plugin_utils.host_facts import documents_from_hostvars

FACTS = {"schema_version": 1, "networks": {"n1": {"label": "private", "dhcp_server": "10.1.0.2"}},
         "fixed_ips": {"10.1.0.3": {"instance_uuid": "u1"}}}


def test_documents_are_validated_with_missing_sections_added():
    hostvars = {"compute1": {"ansible_local": {"novalite": FACTS}}, "compute2": {"ansible_local": {}}}
    documents = documents_from_hostvars(hostvars, ["compute1", "compute2"])
    assert documents == {"compute1": dict(FACTS, instances={}, floating_ips={}, floating_associations={}),
                         "compute2": empty_document()}


def test_hostvars_are_left_as_they_were():
    hostvars = {"compute1": {"ansible_local": {"novalite": copy.deepcopy(FACTS)}}}
    documents = documents_from_hostvars(hostvars, ["compute1"])
    documents["compute1"]["instances"]["u1"] = {}
    assert hostvars == {"compute1": {"ansible_local": {"novalite": FACTS}}}


def test_facts_that_are_not_an_object_name_the_host():
    hostvars = {"compute1": {"ansible_local": {"novalite": "error loading facts"}}}
    with pytest.raises(NovaliteError, match="^ansible_local.novalite of compute1 does not hold a JSON object$"):
        documents_from_hostvars(hostvars, ["compute1"])


def test_a_host_outside_the_inventory_is_an_error():
    with pytest.raises(NovaliteError, match="^host compute9 is not in the inventory$"):
        documents_from_hostvars({}, ["compute9"])
