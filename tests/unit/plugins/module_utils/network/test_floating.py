"""Floating IPs on a host: the checks, the facts sections, the steps, and the floating_ip module's plan."""

import copy

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore, dump_document
from ansible_collections.novalite.compute.plugins.module_utils.network import floating
from ansible_collections.novalite.compute.plugins.module_utils.network.floating import FloatingChange, apply_change
from ansible_collections.novalite.compute.plugins.module_utils.network.floating_service import (
    FloatingRequest, ensure_floating_ips)

NETWORK_ID = "e011b388-163b-4080-a083-bb63ebed7f6a"
UUID1, UUID2 = "90844617-d71f-474f-9cdf-000000000001", "90844617-d71f-474f-9cdf-000000000002"
ROW = {"address": "192.168.96.129", "pool": "nova", "project_id": "p1"}


def base_document():
    vif = {"id": "v1", "address": "fa:16:3e:00:00:01", "network": {"id": NETWORK_ID, "subnets": [
        {"ips": [{"address": "10.1.0.2", "type": "fixed", "floating_ips": []}]}]}}
    return {"schema_version": 1,
            "networks": {NETWORK_ID: {"uuid": NETWORK_ID, "label": "private", "cidr": "10.1.0.0/16", "bridge": "br100",
                                      "bridge_interface": "eth0", "dhcp_server": "10.1.0.3",
                                      "public_interface": "br100", "routing_source_ip": "192.168.96.80"}},
            "fixed_ips": {"10.1.0.2": {"address": "10.1.0.2", "instance_uuid": UUID1, "network_id": NETWORK_ID},
                          "10.1.0.4": {"address": "10.1.0.4", "instance_uuid": UUID2, "network_id": NETWORK_ID}},
            "instances": {UUID1: {"uuid": UUID1, "project_id": "p1", "network_info": [vif]},
                          UUID2: {"uuid": UUID2, "project_id": "p2", "network_info": []}},
            "floating_ips": {}, "floating_associations": {}}


@pytest.fixture
def host(fake_host):
    fake_host.links["br100"] = {"kind": "bridge", "up": True, "master": None, "routes": [],
                                "addresses": [{"local": "10.1.0.3", "prefixlen": 16}]}
    return fake_host


def test_allocate_and_associate_then_disassociate_and_release(host):
    document = base_document()
    bound, unbound = apply_change(document, FloatingChange(allocate=[ROW], associate=[
        {"address": ROW["address"], "instance_uuid": UUID1}]), host.run_command)
    assert unbound == [] and bound == [dict(ROW, fixed_ip="10.1.0.2", instance_uuid=UUID1, network_id=NETWORK_ID,
                                            interface="br100")]
    assert document["floating_ips"][ROW["address"]]["project_id"] == "p1"
    assert apply_change(document, FloatingChange(allocate=[ROW], associate=[
        {"address": ROW["address"], "instance_uuid": UUID1}]), host.run_command) == ([], [])
    with pytest.raises(InvalidInput, match="is associated with instance .* disassociate it before releasing"):
        apply_change(copy.deepcopy(document), FloatingChange(release=[ROW["address"]]), host.run_command)
    bound, unbound = apply_change(document, FloatingChange(release=[ROW["address"]],
                                                           disassociate=[ROW["address"]]), host.run_command)
    assert bound == [] and [a["fixed_ip"] for a in unbound] == ["10.1.0.2"]
    assert document["floating_ips"] == {} and document["floating_associations"] == {}


@pytest.mark.parametrize("change, message", [
    (FloatingChange(associate=[{"address": "192.168.96.129", "instance_uuid": UUID1}]), "is not allocated"),
    (FloatingChange(allocate=[dict(ROW, address="10.1.0.77")]), "lies in the fixed range 10.1.0.0/16"),
    (FloatingChange(allocate=[ROW], associate=[{"address": ROW["address"], "instance_uuid": UUID2}]),
     "belongs to project p1; instance .* is in project p2"),
    (FloatingChange(allocate=[ROW], associate=[{"address": ROW["address"],
                                                "instance_uuid": "90844617-d71f-474f-9cdf-000000000009"}]),
     "has no fixed IP on this host"),
    (FloatingChange(allocate=[dict(ROW, interface="eth9")], associate=[{"address": ROW["address"], "instance_uuid": UUID1}]),
     "interface eth9 does not exist on this host"),
    (FloatingChange(allocate=[dict(ROW, address="192.168.96.80")], associate=[{"address": "192.168.96.80",
                                                                               "instance_uuid": UUID1}]),
     "is already an address of this host"),
], ids=["unallocated", "fixed range", "other project", "unknown instance", "no interface", "host address"])
def test_refusals_change_nothing(host, change, message):
    if "192.168.96.80" in str(change.allocate):
        host.links["br100"]["addresses"].append({"local": "192.168.96.80", "prefixlen": 24})
    document = base_document()
    before = copy.deepcopy(document)
    with pytest.raises(InvalidInput, match=message):
        apply_change(document, change, host.run_command)
    assert document == before


def test_an_address_kept_for_another_project_is_refused():
    document = base_document()
    document["floating_ips"][ROW["address"]] = dict(ROW, project_id="p9", auto_assigned=False)
    with pytest.raises(InvalidInput, match="allocated to project p9 here, not to p1"):
        apply_change(document, FloatingChange(allocate=[ROW]), None)


def test_release_instances_releases_auto_assigned_and_disassociates_the_others(host):
    document = base_document()
    auto = dict(ROW, auto_assigned=True, instance_uuid=UUID1)
    apply_change(document, FloatingChange(allocate=[auto, dict(ROW, address="192.168.96.130")], associate=[
        {"address": "192.168.96.129", "instance_uuid": UUID1}]), host.run_command)
    apply_change(document, FloatingChange(associate=[{"address": "192.168.96.130", "instance_uuid": UUID1}]),
                 host.run_command)
    unbound, released = floating.release_instances(document, [UUID1])
    assert sorted(a["address"] for a in unbound) == ["192.168.96.129", "192.168.96.130"]
    assert released == ["192.168.96.129"] and list(document["floating_ips"]) == ["192.168.96.130"]


def test_bad_entries_are_refused_before_anything_is_looked_at():
    with pytest.raises(InvalidInput, match=r"allocate\[0\].pool 'no pool'"):
        FloatingChange(allocate=[dict(ROW, pool="no pool")])
    with pytest.raises(InvalidInput, match="allocate address 192.168.96.129 appears twice"):
        FloatingChange(allocate=[ROW, ROW])
    with pytest.raises(InvalidInput, match=r"associate\[0\].instance_uuid"):
        FloatingChange(associate=[{"address": "192.168.96.129", "instance_uuid": "x"}])


def test_conntrack_step_flushes_each_fixed_ip_once_and_is_not_undone(host):
    step = floating.ConntrackStep(host.run_command, "/usr/sbin/conntrack",
                                  [{"fixed_ip": "10.1.0.2"}, {"fixed_ip": "10.1.0.2"}])
    step.apply()
    step.undo()
    assert host.flushed == ["10.1.0.2"] and not floating.ConntrackStep(host.run_command, None, [{"fixed_ip": "x"}]).changed


class Module:
    def __init__(self, params, host, check_mode=False):
        self.params, self.check_mode, self.run_command = params, check_mode, host.run_command

    @staticmethod
    def get_bin_path(name, required=False):
        return "/usr/sbin/" + name


def test_the_module_docker_sequence_rules_addresses_arp_and_the_info_cache(host, tmp_path):
    facts = tmp_path / "novalite.fact"
    facts.write_text(dump_document(base_document()))
    params = {"allocate": [dict(ROW, auto_assigned=False, interface=None, instance_uuid=None)], "release": [],
              "associate": [{"address": ROW["address"], "instance_uuid": UUID1, "fixed_ip": None, "interface": None}],
              "disassociate": [], "kept_elsewhere": [], "facts_path": str(facts), "locks_path": str(tmp_path / "l")}
    checked = ensure_floating_ips(Module(params, host, check_mode=True))
    assert checked["changed"] and set(checked["diff"]["after"]) >= {"facts", "iptables", "floating addresses"}
    assert host.links["br100"]["addresses"] == [{"local": "10.1.0.3", "prefixlen": 16}] and host.restores == []
    real = ensure_floating_ips(Module(params, host))
    assert real["changed"] and real["changed_fixed_ips"] == ["10.1.0.2"]
    assert {"local": "192.168.96.129", "prefixlen": 32} in host.links["br100"]["addresses"]
    assert host.arps == ["192.168.96.129"] and [r.split("\n")[0] for r in host.restores] == ["*filter", "*nat"]
    assert host.tables["nat"]["nova-network-PREROUTING"][-1] == "-d 192.168.96.129/32 -j DNAT --to-destination 10.1.0.2"
    record = FactsStore(str(facts)).load()["instances"][UUID1]
    assert record["network_info"][0]["network"]["subnets"][0]["ips"][0]["floating_ips"] == [
        {"address": "192.168.96.129", "type": "floating", "version": 4, "meta": {}}]
    for check_mode in (True, False):
        assert ensure_floating_ips(Module(params, host, check_mode))["changed"] is False
    undo = dict(params, allocate=[], associate=[], disassociate=[ROW["address"]], release=[ROW["address"]])
    gone = ensure_floating_ips(Module(undo, host))
    assert gone["changed"] and gone["floating_ips"] == [] and host.flushed == ["10.1.0.2"]
    assert {"local": "192.168.96.129", "prefixlen": 32} not in host.links["br100"]["addresses"]
    assert not any("192.168.96.129" in rule for chain in host.tables["nat"].values() for rule in chain)
    assert FactsStore(str(facts)).load()["instances"][UUID1]["network_info"][0]["network"]["subnets"][0]["ips"][0][
        "floating_ips"] == []


def test_a_row_kept_elsewhere_is_associated_here(host, tmp_path):
    facts = tmp_path / "novalite.fact"
    facts.write_text(dump_document(base_document()))
    params = {"allocate": [], "release": [], "disassociate": [], "facts_path": str(facts),
              "locks_path": str(tmp_path / "l"),
              "associate": [{"address": ROW["address"], "instance_uuid": UUID1, "fixed_ip": "10.1.0.2",
                             "interface": None}],
              "kept_elsewhere": [dict(ROW, auto_assigned=False, interface=None, instance_uuid=None)]}
    result = ensure_floating_ips(Module(params, host))
    assert [a["address"] for a in result["associations"]] == [ROW["address"]] and result["floating_ips"] == []
    assert FloatingRequest(params).kept_elsewhere[ROW["address"]]["project_id"] == "p1"
