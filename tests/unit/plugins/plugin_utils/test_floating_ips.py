"""Floating IPs on the controller: pools, the table from every host's facts, allocation under the ledger,
the floating_ip_request plans, auto-assignment on create, and the delete's DNS updates."""

import random

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import empty_document
from ansible_collections.novalite.compute.plugins.plugin_utils.dns_names import dns_updates
from ansible_collections.novalite.compute.plugins.plugin_utils.floating_ips import (
    FloatingQuotaExceeded, FloatingTable, checked_pools, pool_hosts)
from ansible_collections.novalite.compute.plugins.plugin_utils.floating_request import plan_floating_request
from ansible_collections.novalite.compute.plugins.plugin_utils.ipam import allocate_on_controller
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import ReservationLedger

NETWORK = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
           "bridge": "br100", "bridge_interface": "eth0", "multi_host": True}
RANGES = [{"pool": "nova", "range": "192.168.96.128/29"}]  # .129 to .134
FIXED = [("private", "10.1.0.0/16")]


def uuid(number):
    return "90844617-d71f-474f-9cdf-%012x" % number


def host_document(*instances, host="compute1"):
    """A host with the network and instances (number, display name, fixed IP, project)."""
    document = empty_document()
    document["networks"][NETWORK["uuid"]] = dict(NETWORK, dhcp_server="10.1.0.3")
    for number, name, address, project in instances:
        document["instances"][uuid(number)] = {"uuid": uuid(number), "display_name": name, "hostname": name,
                                               "project_id": project, "vm_state": "active"}
        document["fixed_ips"][address] = {"address": address, "instance_uuid": uuid(number), "hostname": name,
                                          "network_id": NETWORK["uuid"], "host": host, "mac": "fa:16:3e:00:00:%02x"
                                          % number, "vif_id": uuid(100 + number)}
    return document


@pytest.fixture
def documents():
    return {"compute1": host_document((1, "web-1", "10.1.0.2", "p1"), (3, "other", "10.1.0.6", "p2")),
            "compute2": host_document((2, "web-2", "10.1.0.4", "p1"), host="compute2")}


@pytest.fixture
def ledger(tmp_path):
    return ReservationLedger(str(tmp_path / "state"), name="ipam", ttl=600)


def request(documents, ledger, action, check_mode=False, **args):
    base = {"action": action, "vm_name": None, "address": None, "pool": "nova", "project_id": "p1", "keeper": None,
            "floating_ranges": RANGES, "networks": {"private": NETWORK}, "quotas": {}, "hosts": sorted(documents)}
    base.update(args)
    return plan_floating_request(base, documents, ledger, check_mode)


def commit(documents, plan):
    """What the floating_ip module on each host records."""
    for host, entry in plan["by_host"].items():
        document = documents[host]
        for address in entry["disassociate"]:
            document["floating_associations"].pop(address, None)
        for address in entry["release"]:
            document["floating_ips"].pop(address, None)
        for row in entry["allocate"]:
            document["floating_ips"][row["address"]] = row
        rows = {r["address"]: r for r in entry["kept_elsewhere"] + list(document["floating_ips"].values())}
        for association in entry["associate"]:
            row = rows[association["address"]]
            document["floating_associations"][association["address"]] = dict(
                association, pool=row["pool"], project_id=row["project_id"], interface="br100")


def test_pools_are_checked_whole():
    pools = checked_pools(RANGES + [{"pool": "nova", "range": "192.168.96.200-192.168.96.201"},
                                    {"pool": "lan", "range": "192.168.97.8/30", "interface": "eth1"}], FIXED)
    assert pools["nova"].addresses.size == 8 and pools["lan"].interface == "eth1"
    assert pool_hosts("192.168.96.7/32", "r").size == 1
    for ranges, message in (
            ([{"pool": "x", "range": "10.1.200.0/28"}], "overlaps the fixed range 10.1.0.0/16 of network private"),
            (RANGES + [{"pool": "y", "range": "192.168.96.130"}], "expected a CIDR"),
            (RANGES + [{"pool": "y", "range": "192.168.96.130-192.168.96.140"}], r"overlaps floating_ranges\[0\]"),
            ([{"pool": "bad name", "range": "192.168.96.128/29"}], r"floating_ranges\[0\].pool 'bad name'"),
            ([{"pool": "x", "range": "192.168.96.129/29"}], "has host bits set"),
            ([{"pool": "x", "range": "1.2.3.0/30", "colour": "red"}], "unknown field"),
            (RANGES + [{"pool": "nova", "range": "192.168.98.0/30", "interface": "eth9"}], "two interfaces")):
        with pytest.raises(InvalidInput, match=message):
            checked_pools(ranges, FIXED)


def test_allocate_takes_the_lowest_free_address_and_a_second_play_never_gets_it(documents, ledger):
    first = request(documents, ledger, "allocate")
    assert first["by_host"]["compute1"]["allocate"][0]["address"] == "192.168.96.129" and first["changed"]
    # facts not refreshed (a concurrent play): the ledger keeps .129 taken
    second = request(documents, ledger, "allocate", keeper="compute2")
    assert second["by_host"]["compute2"]["allocate"][0]["address"] == "192.168.96.130"
    checked = request(documents, ledger, "allocate", check_mode=True)
    assert checked["by_host"]["compute1"]["allocate"][0]["address"] == "192.168.96.131"
    assert request(documents, ledger, "allocate")["floating_ips"][0]["address"] == "192.168.96.131"


def test_facts_alone_keep_an_address_when_the_ledger_is_lost(documents, tmp_path):
    commit(documents, request(documents, ReservationLedger(str(tmp_path / "a"), name="ipam"), "allocate"))
    again = request(documents, ReservationLedger(str(tmp_path / "b"), name="ipam"), "allocate")
    assert again["by_host"]["compute1"]["allocate"][0]["address"] == "192.168.96.130"


def test_quota_exhaustion_and_bad_requests_are_refused_before_the_ledger(documents, ledger):
    with pytest.raises(FloatingQuotaExceeded, match="quota exceeded for floating_ips in project p1: requested 1, "
                                                    "in use 0, limit 0"):
        request(documents, ledger, "allocate", quotas={"floating_ips": 0})
    for _n in range(6):
        commit(documents, request(documents, ledger, "allocate"))
    with pytest.raises(NovaliteError, match="floating IP pool nova is exhausted: 1 addresses needed, 0 free"):
        request(documents, ledger, "allocate")
    for args, message in (({"pool": "lan"}, "unknown floating IP pool 'lan'"),
                          ({"keeper": "compute9"}, "keeper compute9 is not one of the compute hosts"),
                          ({"vm_name": "web"}, "allocate takes no vm_name"),
                          ({"address": "192.168.96.300"}, "address '192.168.96.300'")):
        with pytest.raises(InvalidInput, match=message):
            request(documents, ledger, "allocate", **args)
    with pytest.raises(InvalidInput, match="no instance named nope"):
        request(documents, ledger, "associate", vm_name="nope")


def test_associate_a_batch_each_on_its_own_host_then_idempotent(documents, ledger):
    plan = request(documents, ledger, "associate", vm_name="web")
    assert [r["address"] for r in plan["by_host"]["compute1"]["allocate"]] == ["192.168.96.129"]
    assert plan["by_host"]["compute2"]["associate"] == [
        {"address": "192.168.96.130", "instance_uuid": uuid(2), "fixed_ip": "10.1.0.4"}]
    assert [(r["instance"], r["host"]) for r in plan["floating_ips"]] == [("web-1", "compute1"), ("web-2", "compute2")]
    commit(documents, plan)
    again = request(documents, ledger, "associate", vm_name="web")
    assert again["changed"] is False and [r["address"] for r in again["floating_ips"]] == [
        "192.168.96.129", "192.168.96.130"]


def test_vm_name_finds_instances_as_every_lifecycle_action_does(documents, ledger):
    """instance_lookup's find_instances: a uuid names its instance, and an unknown name names the hosts read."""
    by_uuid = request(documents, ledger, "associate", vm_name=uuid(2))
    assert [entry["instance_uuid"] for entry in by_uuid["by_host"]["compute2"]["associate"]] == [uuid(2)]
    with pytest.raises(InvalidInput, match=r"no instance named other \(display name other or other-N, or that "
                                           r"uuid\) in project p1 on compute1, compute2"):
        request(documents, ledger, "associate", vm_name="other")


def test_reassociating_moves_the_binding_and_other_projects_are_refused(documents, ledger):
    commit(documents, request(documents, ledger, "allocate"))  # .129 kept by compute1
    to_web2 = request(documents, ledger, "associate", vm_name="web-2", address="192.168.96.129")
    assert to_web2["by_host"]["compute2"]["kept_elsewhere"][0]["address"] == "192.168.96.129"
    commit(documents, to_web2)
    to_web1 = request(documents, ledger, "associate", vm_name="web-1", address="192.168.96.129")
    assert to_web1["by_host"]["compute2"]["disassociate"] == ["192.168.96.129"]
    assert to_web1["by_host"]["compute1"]["associate"][0]["instance_uuid"] == uuid(1)
    with pytest.raises(InvalidInput, match="belongs to project p1, not to p2"):
        request(documents, ledger, "associate", vm_name="other", address="192.168.96.129", project_id="p2")
    with pytest.raises(InvalidInput, match="is one floating IP: vm_name names 2 instances"):
        request(documents, ledger, "associate", vm_name="web", address="192.168.96.129")
    with pytest.raises(InvalidInput, match="192.168.96.131 is not allocated"):
        request(documents, ledger, "associate", vm_name="web-1", address="192.168.96.131")


def test_release_refuses_an_associated_address_unless_the_instance_is_named(documents, ledger):
    commit(documents, request(documents, ledger, "associate", vm_name="web-1"))
    with pytest.raises(InvalidInput, match="is associated with instance .* disassociate it first"):
        request(documents, ledger, "release", address="192.168.96.129")
    with pytest.raises(InvalidInput, match="belongs to project p1, not to p2"):
        request(documents, ledger, "disassociate", address="192.168.96.129", project_id="p2")
    plan = request(documents, ledger, "release", vm_name="web-1")
    assert plan["by_host"]["compute1"]["disassociate"] == ["192.168.96.129"]
    assert plan["by_host"]["compute1"]["release"] == ["192.168.96.129"]
    assert plan["floating_ips"][0]["allocated"] is False
    commit(documents, plan)
    assert request(documents, ledger, "allocate")["floating_ips"][0]["address"] == "192.168.96.129"
    with pytest.raises(InvalidInput, match="needs address or vm_name"):
        request(documents, ledger, "disassociate")


def allocate_on_create(documents, ledger, requests, release=()):
    args = {"network": NETWORK, "release": list(release), "floating_ip": True, "floating_pool": "nova",
            "floating_ranges": RANGES,
            "requests": [{"instance_uuid": uuid(n), "instance_name": "instance-%08x" % n, "hostname": "vm%d" % n,
                          "host": host, "project_id": "p1"} for n, host in requests]}
    return allocate_on_controller(args, documents, ledger, rng=random.Random(1))


def test_auto_assign_on_create_no_quota_kept_by_the_instances_host_and_dns_names(ledger):
    documents = {"compute1": empty_document(), "compute2": empty_document(), "compute3": host_document(host="compute3")}
    output = allocate_on_create(documents, ledger, [(7, "compute1"), (8, "compute2")])
    assert output["by_host"]["compute1"]["floating_ips"] == [
        {"address": "192.168.96.129", "pool": "nova", "project_id": "p1", "auto_assigned": True, "interface": None,
         "instance_uuid": uuid(7)}]
    assert output["by_host"]["compute2"]["floating_ips"][0]["address"] == "192.168.96.130"
    # compute3 serves the network (10.1.0.3) with no instance in the run: it is told the names
    assert output["dns_names"] == {"10.1.0.2": "vm7", "10.1.0.5": "vm8"} and output["other_hosts"] == ["compute3"]
    with pytest.raises(InvalidInput, match="floating_ip: requests need project_id"):
        allocate_on_controller(dict({"network": NETWORK, "release": [], "floating_ip": True, "floating_pool": "nova",
                                     "floating_ranges": RANGES},
                                    requests=[{"instance_uuid": uuid(9), "hostname": "vm9", "host": "compute1"}]),
                               documents, ledger)


def test_an_instance_with_a_floating_ip_keeps_it_on_a_rerun(documents, ledger):
    first = allocate_on_create(documents, ledger, [(1, "compute1")])
    row = first["by_host"]["compute1"]["floating_ips"][0]
    documents["compute1"]["floating_ips"][row["address"]] = row
    documents["compute1"]["floating_associations"][row["address"]] = {
        "address": row["address"], "instance_uuid": uuid(1), "fixed_ip": "10.1.0.2", "pool": "nova",
        "project_id": "p1"}
    again = allocate_on_create(documents, ledger, [(1, "compute1")])
    assert again["by_host"]["compute1"]["floating_ips"][0]["address"] == row["address"] and not again["changed"]
    allocate_on_create(documents, ledger, [], release=[uuid(1)])  # the delete forgets its reservation
    assert FloatingTable(documents).rows[row["address"]]["keeper"] == "compute1"


def test_dns_updates_of_a_delete(documents):
    updates = dns_updates(documents, "compute2", without=[uuid(1)])
    assert updates == [{"network": NETWORK, "dns_names": {"10.1.0.4": "web-2", "10.1.0.6": "other"}}]
    assert dns_updates(documents, "compute2", without=[]) == []
    assert dns_updates(documents, "compute9", without=[uuid(1)]) == []
