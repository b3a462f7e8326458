import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.compute.flavors import find_flavor, flavor_table


def test_m1_tiny_is_the_seeds():
    tiny = find_flavor("m1.tiny")
    assert (tiny["memory_mb"], tiny["vcpus"], tiny["root_gb"], tiny["ephemeral_gb"], tiny["swap"]) == (512, 1, 0, 0, 0)
    assert (tiny["rxtx_factor"], tiny["flavorid"], tiny["id"]) == (1.0, "1", 4)


def test_all_five_defaults_and_lookup_by_flavorid():
    assert sorted(flavor_table()) == ["m1.large", "m1.medium", "m1.small", "m1.tiny", "m1.xlarge"]
    assert find_flavor("5")["name"] == "m1.xlarge"


def test_user_flavors_add_and_override():
    table = flavor_table({"m1.tiny": {"memory_mb": 256, "vcpus": 1, "root_gb": 1},
                          "c1.big": {"memory_mb": 1024, "vcpus": 4, "root_gb": 10}})
    assert table["m1.tiny"]["memory_mb"] == 256
    assert table["c1.big"]["flavorid"] == "c1.big"


def test_unknown_flavor_names_the_known_ones():
    with pytest.raises(InvalidInput, match="unknown flavor 'm9.huge'.*m1.tiny"):
        find_flavor("m9.huge")


@pytest.mark.parametrize("fields, message", [
    ({"memory_mb": 0, "vcpus": 1, "root_gb": 0}, "memory_mb must be a whole number from 1"),
    ({"memory_mb": 512, "vcpus": "two", "root_gb": 0}, "vcpus"),
    ({"memory_mb": 512, "vcpus": 1, "root_gb": 0, "colour": "red"}, "unknown field.*colour"),
])
def test_bad_user_flavor_is_refused(fields, message):
    with pytest.raises(InvalidInput, match=message):
        flavor_table({"bad": fields})


def test_disabled_flavor_is_refused():
    with pytest.raises(InvalidInput, match="disabled"):
        find_flavor("old", {"old": {"memory_mb": 512, "vcpus": 1, "root_gb": 0, "disabled": True}})
