"""Controller-side IPAM: every host's facts plus the ledger, releases, and what facts override."""

import json
import os
import random

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import empty_document
from ansible_collections.novalite.compute.plugins.module_utils.network import records as service
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NetworkRecord
from ansible_collections.novalite.compute.plugins.plugin_utils.ipam import allocate_on_controller
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import ReservationLedger

NETWORK = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
           "dns1": "8.8.4.4", "bridge": "br100", "bridge_interface": "eth0", "multi_host": True}


def instance_uuid(number):
    return "90844617-d71f-474f-9cdf-%012x" % number


@pytest.fixture
def network():
    return NetworkRecord.from_params(NETWORK)


@pytest.fixture
def uuid_of():
    return instance_uuid


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ledger(tmp_path, clock):
    return ReservationLedger(str(tmp_path / "state"), name="ipam", ttl=600, clock=clock)


@pytest.fixture
def run(ledger, uuid_of):
    def run(numbers_and_hosts, documents, release=(), check_mode=False, network="private"):
        network = NETWORK if network == "private" else network
        requests = [{"instance_uuid": uuid_of(n), "instance_name": "instance-%08x" % n, "hostname": "vm%d" % n,
                     "host": host, "address": None, "mac": None} for n, host in numbers_and_hosts]
        args = {"network": network, "requests": requests, "release": [uuid_of(n) for n in release]}
        return allocate_on_controller(args, documents, ledger, check_mode, rng=random.Random(len(requests)))
    return run


def fresh_hosts():
    return {"compute1": empty_document(), "compute2": empty_document()}


def commit(documents, output, network):
    """What nova_network on each host records, from the action's by_host output."""
    for host, entry in output["by_host"].items():
        document = documents[host]
        service.record_network(document, network, host, entry["dhcp_server"])
        service.record_fixed_ips(document, [a for a in output["allocations"] if a["host"] == host])


def addresses(output):
    return [a["address"] for a in output["allocations"]]


def test_allocates_across_hosts_in_novas_order(run):
    output = run([(1, "compute1"), (2, "compute2")], fresh_hosts())
    assert addresses(output) == ["10.1.0.2", "10.1.0.4"]
    assert output["dhcp_servers"] == {"compute1": "10.1.0.3", "compute2": "10.1.0.5"}
    assert output["changed"] is True
    assert output["by_host"]["compute2"]["instances"][0]["hostname"] == "vm2"
    assert set(output["by_host"]["compute2"]["instances"][0]) == {
        "instance_uuid", "instance_name", "hostname", "address", "mac", "vif_id"}


def test_two_plays_with_the_same_stale_facts_never_collide(run):
    stale = fresh_hosts()  # both plays gathered facts before either committed
    first = run([(1, "compute1"), (2, "compute2")], stale)
    second = run([(3, "compute1"), (4, "compute2")], stale)
    taken = addresses(first) + list(first["dhcp_servers"].values())
    assert not set(addresses(second)) & set(taken)
    assert second["dhcp_servers"] == first["dhcp_servers"]  # the ledger remembers the hosts' servers too
    assert not {a["mac"] for a in first["allocations"]} & {a["mac"] for a in second["allocations"]}


def test_same_instance_gets_the_same_allocation_from_ledger_then_facts(run, network):
    documents = fresh_hosts()
    first = run([(1, "compute1")], documents)
    from_ledger = run([(1, "compute1")], documents)
    assert from_ledger["allocations"] == first["allocations"] and from_ledger["changed"] is False
    commit(documents, first, network)
    from_facts = run([(1, "compute1")], documents)
    assert from_facts["allocations"] == first["allocations"] and from_facts["changed"] is False


def test_check_mode_records_nothing(run):
    documents = fresh_hosts()
    checked = run([(1, "compute1")], documents, check_mode=True)
    real = run([(1, "compute1")], documents)
    assert checked["changed"] and real["changed"]
    assert addresses(checked) == addresses(real) == ["10.1.0.2"]
    assert run([(1, "compute1")], documents, check_mode=True)["changed"] is False


def test_ledger_entry_outlives_the_commit_for_plays_with_older_facts(run, network):
    stale, current = fresh_hosts(), fresh_hosts()
    first = run([(1, "compute1")], current)
    commit(current, first, network)
    run([(2, "compute1")], current)  # a later play that sees the commit in its facts
    late = run([(3, "compute1")], stale)  # a play whose facts predate the commit
    assert "10.1.0.2" not in addresses(late)


def test_a_committed_then_released_vif_frees_its_address_at_once(run, network, uuid_of):
    documents = fresh_hosts()
    first = run([(1, "compute1")], documents)
    commit(documents, first, network)
    service.release_fixed_ips(documents["compute1"], [uuid_of(1)])
    again = run([(2, "compute1")], documents)
    assert addresses(again) == ["10.1.0.2"]


def test_release_drops_the_ledger_entry_and_is_reported(run):
    documents = fresh_hosts()
    run([(1, "compute1")], documents)
    released = run([], documents, release=[1])
    assert released["released"] == ["10.1.0.2"] and released["changed"] is True
    assert addresses(run([(2, "compute1")], documents)) == ["10.1.0.2"]


def test_entries_expire_after_the_ttl(run, clock):
    documents = fresh_hosts()
    run([(1, "compute1")], documents)
    clock.now += 601
    assert addresses(run([(2, "compute1")], documents)) == ["10.1.0.2"]


def test_facts_win_over_a_conflicting_ledger_entry(run, network, uuid_of):
    documents = fresh_hosts()
    run([(1, "compute1")], documents)  # reserved 10.1.0.2 for instance 1
    documents["compute2"]["fixed_ips"]["10.1.0.2"] = {
        "address": "10.1.0.2", "network_id": network.uuid, "mac": "fa:16:3e:00:00:09", "vif_id": "v9",
        "instance_uuid": uuid_of(9), "instance_name": None, "hostname": "vm9", "host": "compute2"}
    output = run([(1, "compute1")], documents)
    assert addresses(output) != ["10.1.0.2"] and output["changed"] is True


def test_a_request_for_a_host_whose_facts_are_not_read_is_refused(run):
    with pytest.raises(InvalidInput, match=r"requests\[0\].host 'compute9' is not one of the hosts"):
        run([(1, "compute9")], fresh_hosts())


def test_ledger_keeps_fixed_ips_and_dhcp_servers_per_network(run, ledger):
    run([(1, "compute1")], fresh_hosts())
    entries = json.loads(open(ledger.path).read())
    assert list(entries) == ["dhcp_servers/e011b388-163b-4080-a083-bb63ebed7f6a",
                             "fixed_ips/e011b388-163b-4080-a083-bb63ebed7f6a"]


@pytest.mark.parametrize("network", [None, {"cidr": "10.1.0.0/33"}], ids=["left-out", "invalid"])
def test_a_release_alone_needs_no_network_and_finds_every_networks_entries(run, network):
    documents = fresh_hosts()
    other = dict(NETWORK, uuid="5f1c8f52-0d55-4a39-9b7e-0d6f3c1a2b3c", cidr="10.2.0.0/16", bridge="br200")
    run([(1, "compute1")], documents)
    run([(2, "compute1")], documents, network=other)
    released = run([], documents, release=[1, 2], network=network)
    assert released["released"] == ["10.1.0.2", "10.2.0.2"] and released["changed"] is True
    assert released["network"] is None and released["allocations"] == [] and released["by_host"] == {}
    assert addresses(run([(3, "compute1")], documents)) == ["10.1.0.2"]


def test_allocating_needs_a_network(run):
    with pytest.raises(InvalidInput, match="network is required, unless the call only releases"):
        run([(1, "compute1")], fresh_hosts(), network=None)


def test_a_request_with_a_bad_field_is_refused_before_the_ledger_is_touched(run, ledger):
    with pytest.raises(InvalidInput, match=r"requests\[0\]\.hostname 'vm 1': expected a DNS label"):
        request = {"instance_uuid": instance_uuid(1), "hostname": "vm 1", "host": "compute1"}
        allocate_on_controller({"network": NETWORK, "requests": [request], "release": []}, fresh_hosts(), ledger)
    assert not os.path.exists(ledger.path)
