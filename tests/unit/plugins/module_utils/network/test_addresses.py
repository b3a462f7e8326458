import random

import pytest
from netaddr import IPSet

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network.addresses import (
    address_numbers, free_count, lowest_free, parse_address_range, parse_ipv4)


@pytest.mark.parametrize("seed", range(5))
def test_lowest_free_agrees_with_ipset_difference(seed):
    rng = random.Random(seed)
    pool = IPSet(["10.1.0.0/22"]) - IPSet(["10.1.1.0/26", "10.1.0.1/32", "10.1.3.255/32"])
    taken = ["10.1.%d.%d" % (rng.randrange(4), rng.randrange(256)) for _index in range(rng.choice((10, 500, 900)))]
    expected = [str(a) for a in (pool - IPSet(taken))]
    numbers = address_numbers(taken)
    assert lowest_free(pool, numbers, 5000) == expected
    assert lowest_free(pool, numbers, 7) == expected[:7]
    assert free_count(pool, numbers) == len(expected)


def test_lowest_free_of_a_full_pool_is_empty():
    pool = IPSet(["10.1.0.8/30"])
    assert lowest_free(pool, address_numbers(["10.1.0.%d" % n for n in range(8, 12)]), 1) == []
    assert lowest_free(pool, [], 0) == []


@pytest.mark.parametrize("value", ["10.1", "010.1.0.2", "10.1.0.2 ", "::1", "", None])
def test_only_dotted_quads_are_addresses(value):
    with pytest.raises(InvalidInput, match="is not an IPv4 address"):
        parse_ipv4(value, "address")


def test_ranges_accept_address_range_and_cidr():
    assert parse_address_range("10.1.0.4", "r").size == 1
    assert parse_address_range("10.1.0.4 - 10.1.0.7", "r").size == 4
    assert parse_address_range("10.1.0.0/29", "r").size == 8
