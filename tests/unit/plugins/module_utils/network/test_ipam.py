"""Address arithmetic, MAC generation, instance entries and the batch allocator."""

import random

import pytest
from netaddr import IPSet

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.network import records as service
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import (
    AddressMap, AllocationRequest, NetworkUsage, address_integers, address_key, address_numbers, allocate, free_count,
    generate_macs, lowest_free)


# --- address arithmetic ----------------------------------------------------------------------

@pytest.mark.parametrize("run", range(5))
def test_lowest_free_agrees_with_ipset_difference(run):
    rng = random.Random(run)
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


@pytest.mark.parametrize("run", range(5))
def test_the_address_map_agrees_with_ipset_difference(run):
    rng = random.Random(run)
    pool = IPSet(["10.1.0.0/22"]) - IPSet(["10.1.1.0/26", "10.1.0.1/32", "10.1.3.255/32", "10.1.0.0/32"])
    # some taken addresses fall outside the pool (the reserved ones, another network): never handed out either way
    taken = ["10.%d.%d.%d" % (rng.choice((1, 1, 1, 2)), rng.randrange(5), rng.randrange(256))
             for _index in range(rng.choice((0, 10, 500, 900)))]
    expected = [str(a) for a in (pool - IPSet(taken))]
    address_map = AddressMap(pool)
    address_map.take(address_integers(taken))
    for count in (0, 1, 7, 300, 5000):
        assert address_map.lowest_free(count) == expected[:count]
    assert address_map.free_count() == len(expected)
    copy = address_map.copy()
    copy.take(address_integers(address_map.lowest_free(3)))
    assert copy.lowest_free(1) == address_map.lowest_free(4)[3:]
    assert address_map.free_count() - copy.free_count() == min(3, address_map.free_count())


def test_the_address_map_of_an_empty_pool_has_nothing_free():
    address_map = AddressMap(IPSet())
    address_map.take([address_key("10.1.0.5")])
    assert (address_map.lowest_free(1), address_map.free_count()) == ([], 0)


def test_the_address_map_keeps_far_apart_ranges_apart():
    """A floating pool of two ranges 180 million addresses apart: a map per range, not one across them."""
    pool = IPSet(["10.0.0.0/30", "192.168.0.0/30"])
    address_map = AddressMap(pool)
    assert [len(taken) for taken in address_map.maps] == [4, 4]
    address_map.take(address_integers(["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "192.168.0.1", "9.0.0.0",
                                       "10.0.0.4", "192.167.255.255", "192.168.0.4"]))
    assert address_map.lowest_free(2) == ["192.168.0.0", "192.168.0.2"] and address_map.free_count() == 3


def test_address_integers_keep_order_and_repeats():
    addresses = ["10.1.0.9", "0.0.0.0", "255.255.255.255", "10.1.0.9", "192.168.96.80"]
    assert list(address_integers(addresses)) == [address_key(a) for a in addresses]
    assert list(address_integers([])) == []
    with pytest.raises(OSError):
        address_integers(["10.1.0"])


def test_usage_keeps_the_first_holder_of_an_address_and_its_mac(network, uuid_of):
    def record(number, address, mac):
        return {"address": address, "network_id": network.uuid, "mac": mac, "vif_id": uuid_of(100 + number),
                "instance_uuid": uuid_of(number), "host": "compute1"}
    usage = NetworkUsage(network)
    usage.add_fixed_ips([record(1, "10.1.0.2", "fa:16:3e:00:00:01"), record(2, "10.1.0.2", "fa:16:3e:00:00:02")])
    usage.add_fixed_ip(record(3, "10.1.0.4", "fa:16:3e:00:00:01"))
    usage.add_dhcp_server("compute1", "10.1.0.3")
    usage.add_dhcp_server("compute1", "10.1.0.5")  # a host keeps the server it has
    assert usage.fixed_ips["10.1.0.2"]["instance_uuid"] == uuid_of(1)
    assert set(usage.by_instance) == {uuid_of(1), uuid_of(2), uuid_of(3)}
    assert usage.taken_macs() == {"fa:16:3e:00:00:01": uuid_of(3)}  # the last record of a MAC names it
    assert usage.dhcp_servers == {"compute1": "10.1.0.3"}
    assert usage.address_map.lowest_free(2) == ["10.1.0.5", "10.1.0.6"]


# --- MACs ------------------------------------------------------------------------------------

def test_generated_macs_are_novas_unique_and_avoid_taken():
    rng = random.Random(1)
    taken = set(generate_macs(500, (), random.Random(2)))
    macs = generate_macs(2000, taken, rng)
    assert len(set(macs)) == 2000
    assert not taken & set(macs)
    assert all(mac.startswith("fa:16:3e:") and validate.mac_address(mac, "mac") == mac for mac in macs)


def test_generated_macs_avoid_also_taken_and_leave_taken_as_it_was():
    taken = {"fa:16:3e:00:00:01": "instance"}
    also = generate_macs(300, (), random.Random(3))
    # the same draws as ``also`` for its first 40, each refused: the first MAC is ``also``'s 41st
    macs = generate_macs(300, taken, random.Random(3), also_taken=also[:40])
    assert macs[0] == also[40] and not set(macs) & (set(taken) | set(also[:40])) and len(set(macs)) == 300
    assert taken == {"fa:16:3e:00:00:01": "instance"}
    assert generate_macs(5, set(), random.Random(9)) == generate_macs(5, {}, random.Random(9), also_taken=())


def test_gives_up_when_every_try_collides():
    class Stuck(random.Random):
        def randint(self, a, b):
            return 0
    with pytest.raises(NovaliteError, match="could not find a free fa:16:3e MAC"):
        generate_macs(1, {"fa:16:3e:00:00:00"}, Stuck())


# --- one instance's entry --------------------------------------------------------------------

def entry(**fields):
    return dict({"instance_uuid": "90844617-d71f-474f-9cdf-35e244c846b0", "hostname": "vm1"}, **fields)


def test_an_entry_comes_out_canonical():
    request = AllocationRequest.from_params(entry(instance_uuid="90844617D71F474F9CDF35E244C846B0",
                                                  mac="FA-16-3E-5A-F4-23", address="10.1.0.2",
                                                  instance_name="instance-0000000a"), "compute1", "instances[0]")
    assert (request.instance_uuid, request.mac, request.address, request.host) == (
        "90844617-d71f-474f-9cdf-35e244c846b0", "fa:16:3e:5a:f4:23", "10.1.0.2", "compute1")
    assert AllocationRequest.from_params(entry(mac="fa:16:3e:5a:f4:23"), "c", "i").mac == "fa:16:3e:5a:f4:23"


@pytest.mark.parametrize("value", ["vm1", "a", "web-01", "x" * 63])
def test_dns_labels_that_go_into_the_hosts_file(value):
    assert AllocationRequest.from_params(entry(hostname=value), "compute1", "instances[0]").hostname == value


@pytest.mark.parametrize("value", ["vm1\n", "vm,1", "vm 1", "-vm", "vm-", "vm.1", "", "x" * 64, None, 7])
def test_anything_that_could_split_a_hosts_line_is_refused(value):
    with pytest.raises(InvalidInput, match=r"instances\[0\]\.hostname .*expected a DNS label"):
        AllocationRequest.from_params(entry(hostname=value), "compute1", "instances[0]")


@pytest.mark.parametrize("field, value, message", [
    ("mac", "fa:16:3e:5a:f4", "expected a MAC address"),
    ("mac", "fa:16:3e:5a:f4:23:01:02", "expected a MAC address"),
    ("mac", "zz:16:3e:5a:f4:23", "expected a MAC address"),
    ("mac", "fa:16:3e:5a:f4:23\n", "expected a MAC address"),
    ("mac", "fa:16:3e:5a:f4:23,x", "expected a MAC address"),
    ("mac", "01:00:5e:00:00:01", "expected a unicast MAC address"),
    ("mac", "ff:ff:ff:ff:ff:ff", "expected a unicast MAC address"),
    ("mac", "fb:16:3e:00:00:01", "expected a unicast MAC address"),
    ("address", "10.1", "expected an IPv4 address"),
    ("address", "010.1.0.2", "expected an IPv4 address"),
    ("address", "10.1.0.2 ", "expected an IPv4 address"),
    ("address", "::1", "expected an IPv4 address"),
    ("instance_name", "instance-1\n", "expected 1 to 64"),
    ("instance_name", "locks", "not usable as an instance directory"),
    ("vif_id", "v1", "expected a UUID"),
    ("instance_uuid", "not-a-uuid", "expected a UUID"),
])
def test_a_bad_field_is_refused_naming_it(field, value, message):
    with pytest.raises(InvalidInput, match=r"instances\[0\]\.%s .*%s" % (field, message)):
        AllocationRequest.from_params(entry(**{field: value}), "compute1", "instances[0]")


# --- the allocator ---------------------------------------------------------------------------


def committed(network, result, host="compute1", document=None):
    """A host's facts document after committing ``result`` (what nova_network does)."""
    document = document or {"networks": {}, "fixed_ips": {}, "instances": {}}
    service.record_network(document, network, host, result.dhcp_servers.get(host))
    service.record_fixed_ips(document, [r for r in result.fixed_ips if r["host"] == host])
    return document


def test_novas_order_first_guest_then_its_hosts_dhcp_server(network, make_request, rng):
    result = allocate(network, NetworkUsage(network), [make_request(1)], rng=rng)
    assert [r["address"] for r in result.fixed_ips] == ["10.1.0.2"]
    assert result.dhcp_servers == {"compute1": "10.1.0.3"}
    assert result.new_dhcp_hosts == ["compute1"]


def test_bulk_allocation_interleaves_each_new_hosts_dhcp_address(network, make_request, rng):
    requests = [make_request(1), make_request(2, "compute2"), make_request(3), make_request(4, "compute2")]
    result = allocate(network, NetworkUsage(network), requests, rng=rng)
    assert [r["address"] for r in result.fixed_ips] == ["10.1.0.2", "10.1.0.4", "10.1.0.6", "10.1.0.7"]
    assert result.dhcp_servers == {"compute1": "10.1.0.3", "compute2": "10.1.0.5"}


def test_reserved_addresses_are_skipped(make_network, make_request, rng):
    network = make_network(reserved=["10.1.0.2-10.1.0.4", "10.1.0.6"])
    result = allocate(network, NetworkUsage(network), [make_request(1), make_request(2)], rng=rng)
    assert [r["address"] for r in result.fixed_ips] == ["10.1.0.5", "10.1.0.8"]
    assert result.dhcp_servers["compute1"] == "10.1.0.7"


def test_a_thousand_at_once_are_the_lowest_and_distinct(network, make_request, rng):
    result = allocate(network, NetworkUsage(network), [make_request(n) for n in range(1000)], rng=rng)
    addresses = [r["address"] for r in result.fixed_ips]
    assert addresses[:2] == ["10.1.0.2", "10.1.0.4"] and addresses[-1] == "10.1.3.234"
    assert len(set(addresses)) == 1000 and len({r["mac"] for r in result.fixed_ips}) == 1000


def test_exhausted_pool_names_the_network_and_allocates_nothing(make_network, make_request, rng):
    network = make_network(cidr="10.9.0.0/29")  # .2 to .6 usable
    usage = NetworkUsage(network)
    with pytest.raises(NovaliteError) as error:
        allocate(network, usage, [make_request(n) for n in range(5)], rng=rng)
    assert error.value.msg == ("network private (e011b388-163b-4080-a083-bb63ebed7f6a) is exhausted: "
                               "6 addresses needed, 5 free in 10.9.0.0/29")
    assert usage.fixed_ips == {}


def test_release_then_allocate_reuses_the_lowest_freed_address(network, make_request, rng):
    document = committed(network, allocate(network, NetworkUsage(network), [make_request(n) for n in range(3)],
                                           rng=rng))
    released = service.release_fixed_ips(document, [make_request(1).instance_uuid])
    assert [r["address"] for r in released] == ["10.1.0.4"]
    usage = NetworkUsage(network).add_facts("compute1", document)
    again = allocate(network, usage, [make_request(9)], rng=rng)
    assert again.fixed_ips[0]["address"] == "10.1.0.4"
    assert usage.released_vif_ids == {released[0]["vif_id"]}


def test_an_instance_with_an_allocation_gets_the_same_back(network, make_request, rng):
    first = allocate(network, NetworkUsage(network), [make_request(1)], rng=rng)
    usage = NetworkUsage(network).add_facts("compute1", committed(network, first))
    again = allocate(network, usage, [make_request(1)], rng=rng)
    assert again.fixed_ips == first.fixed_ips
    assert again.new_instances == [] and again.new_dhcp_hosts == []


def test_an_instance_cannot_be_given_a_second_address(network, make_request, rng):
    usage = NetworkUsage(network).add_facts(
        "compute1", committed(network, allocate(network, NetworkUsage(network), [make_request(1)], rng=rng)))
    with pytest.raises(InvalidInput, match="already holds address 10.1.0.2 .*; 10.1.0.9 was requested"):
        allocate(network, usage, [make_request(1, address="10.1.0.9")], rng=rng)


@pytest.mark.parametrize("address, reason", [
    ("10.1.0.1", "is not in the pool of network private .*: it is the gateway"),
    ("10.1.0.7", "is not in the pool of network private .*: it is reserved"),
    ("10.1.0.2", "is already held by instance 90844617-d71f-474f-9cdf-000000000001 \\(host compute1\\)"),
    ("10.1.0.3", "is already held by the DHCP server of host compute1"),
])
def test_a_requested_fixed_ip_that_is_taken_or_reserved_is_refused(make_network, make_request, rng, address, reason):
    network = make_network(reserved=["10.1.0.7"])
    usage = NetworkUsage(network).add_facts(
        "compute1", committed(network, allocate(network, NetworkUsage(network), [make_request(1)], rng=rng)))
    with pytest.raises(InvalidInput, match="address %s requested for instance .* %s" % (address, reason)):
        allocate(network, usage, [make_request(2, address=address)], rng=rng)


def test_requested_address_is_honoured_and_the_rest_fill_around_it(network, make_request, rng):
    result = allocate(network, NetworkUsage(network), [make_request(1, address="10.1.0.2"), make_request(2)],
                      rng=rng)
    assert [r["address"] for r in result.fixed_ips] == ["10.1.0.2", "10.1.0.4"]
    assert result.dhcp_servers == {"compute1": "10.1.0.3"}


def test_macs_are_unique_across_the_network(network, make_request, rng):
    usage = NetworkUsage(network)
    usage.add_fixed_ip({"address": "10.1.0.9", "mac": "fa:16:3e:00:00:01", "instance_uuid": "other",
                        "vif_id": "v", "host": "compute2"})
    with pytest.raises(InvalidInput, match="mac fa:16:3e:00:00:01 requested for instance .* is already used"):
        allocate(network, usage, [make_request(1, mac="fa:16:3e:00:00:01")], rng=rng)
    result = allocate(network, usage, [make_request(n) for n in range(200)], rng=rng)
    macs = {r["mac"] for r in result.fixed_ips}
    assert len(macs) == 200 and "fa:16:3e:00:00:01" not in macs


def test_duplicates_within_one_request_are_refused(network, make_request, rng):
    with pytest.raises(InvalidInput, match="address 10.1.0.9 appears twice"):
        allocate(network, NetworkUsage(network), [make_request(1, address="10.1.0.9"),
                                                  make_request(2, address="10.1.0.9")], rng=rng)


def test_not_multi_host_serves_dhcp_from_the_gateway(make_network, make_request, rng):
    network = make_network(multi_host=False)
    result = allocate(network, NetworkUsage(network), [make_request(1), make_request(2, "compute2")], rng=rng)
    assert result.dhcp_servers == {"compute1": "10.1.0.1", "compute2": "10.1.0.1"}
    assert [r["address"] for r in result.fixed_ips] == ["10.1.0.2", "10.1.0.3"]


def test_a_host_keeps_its_dhcp_server_and_refuses_another(network):
    usage = NetworkUsage(network)
    usage.add_dhcp_server("compute1", "10.1.0.50")
    assert allocate(network, usage, [], dhcp_hosts=["compute1"]).dhcp_servers == {"compute1": "10.1.0.50"}
    with pytest.raises(InvalidInput, match="host compute1 already serves .* from 10.1.0.50; dhcp_server 10.1.0.3"):
        allocate(network, usage, [], dhcp_hosts=["compute1"], requested_dhcp={"compute1": "10.1.0.3"})


def test_a_fragmented_usage_gives_the_lowest_free_of_what_facts_and_the_batch_hold(network, make_request, uuid_of, rng):
    """The usage's address map hands out what the sorted arithmetic over every taken address would."""
    pool = [str(a) for a in list(network.pool.iter_ipranges())[0]][:3000]
    used = random.Random(5).sample(pool, 2000)
    usage = NetworkUsage(network)
    usage.add_fixed_ips({"address": address, "network_id": network.uuid, "mac": "fa:16:3e:01:%02x:%02x" % divmod(n, 256),
                         "vif_id": uuid_of(5000 + n), "instance_uuid": uuid_of(10000 + n), "host": "compute1"}
                        for n, address in enumerate(used))
    usage.add_dhcp_server("compute1", used[0])
    requested = next(a for a in reversed(pool) if a not in used)
    requests = [make_request(1, address=requested)] + [make_request(n, host="compute%d" % (n % 3 + 1))
                                                       for n in range(2, 400)]
    result = allocate(network, usage, requests, rng=rng)
    handed_out = [r["address"] for r in result.fixed_ips[1:]] + [result.dhcp_servers[h] for h in result.new_dhcp_hosts]
    assert len(handed_out) == 398 + 2  # the instances without an address, and compute2's and compute3's DHCP servers
    assert sorted(handed_out, key=address_key) == lowest_free(
        network.pool, address_numbers(usage.taken_addresses() + [requested]), len(handed_out))
    assert result.fixed_ips[0]["address"] == requested
