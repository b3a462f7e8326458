import json
import multiprocessing

from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.network import facts_sections
from ansible_collections.novalite.compute.plugins.module_utils.network.allocator import AllocationRequest, allocate
from ansible_collections.novalite.compute.plugins.module_utils.network.network_record import NetworkRecord
from ansible_collections.novalite.compute.plugins.module_utils.network.network_usage import NetworkUsage

WRITERS, PER_WRITER = 6, 15


def commit_locally(store_path, network_params, writer):
    """One nova_network run: allocate from this host's facts and record, under the facts lock."""
    network = NetworkRecord.from_params(network_params)
    with FactsStore(store_path, lock_timeout=60).transaction() as transaction:
        document = transaction.document
        usage = NetworkUsage(network).add_facts("compute1", document)
        requests = [AllocationRequest("00000000-0000-4000-8000-%06d%06d" % (writer, n), "vm%d-%d" % (writer, n),
                                      "compute1") for n in range(PER_WRITER)]
        result = allocate(network, usage, requests, dhcp_hosts=["compute1"])
        facts_sections.record_network(document, network, "compute1", result.dhcp_servers["compute1"])
        facts_sections.record_fixed_ips(document, result.fixed_ips)


def test_facts_round_trip_through_the_store(tmp_path, network, make_request, rng):
    store = FactsStore(str(tmp_path / "novalite.fact"))
    result = allocate(network, NetworkUsage(network), [make_request(1), make_request(2)], rng=rng)
    with store.transaction() as transaction:
        facts_sections.record_network(transaction.document, network, "compute1", result.dhcp_servers["compute1"])
        facts_sections.record_fixed_ips(transaction.document, result.fixed_ips)
    on_disk = json.loads((tmp_path / "novalite.fact").read_text())
    assert on_disk["networks"][network.uuid]["dhcp_server"] == "10.1.0.3"
    assert on_disk["networks"][network.uuid]["host"] == "compute1"
    assert on_disk["fixed_ips"]["10.1.0.2"] == result.fixed_ips[0]
    usage = NetworkUsage(network).add_facts("compute1", store.load())
    assert set(usage.fixed_ips) == {"10.1.0.2", "10.1.0.4"} and usage.dhcp_servers == {"compute1": "10.1.0.3"}


def test_concurrent_writers_never_hand_out_an_address_twice(tmp_path, seed_params):
    path = str(tmp_path / "novalite.fact")
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=commit_locally, args=(path, seed_params, w)) for w in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    fixed_ips = json.loads(open(path).read())["fixed_ips"]
    assert len(fixed_ips) == WRITERS * PER_WRITER
    assert len({r["mac"] for r in fixed_ips.values()}) == WRITERS * PER_WRITER
    dhcp_server = json.loads(open(path).read())["networks"][seed_params["uuid"]]["dhcp_server"]
    assert dhcp_server == "10.1.0.3" and dhcp_server not in fixed_ips


def test_release_keeps_the_newest_released_vif_ids(network, make_request, rng):
    document = {"networks": {}, "fixed_ips": {}, "instances": {}}
    result = allocate(network, NetworkUsage(network), [make_request(n) for n in range(3)], rng=rng)
    facts_sections.record_network(document, network, "compute1", "10.1.0.3")
    facts_sections.record_fixed_ips(document, result.fixed_ips)
    document["networks"][network.uuid]["released_vif_ids"] = ["old"] * facts_sections.RELEASED_VIF_IDS_KEPT
    released = facts_sections.release_fixed_ips(document, network.uuid, [make_request(0).instance_uuid])
    kept = document["networks"][network.uuid]["released_vif_ids"]
    assert len(kept) == facts_sections.RELEASED_VIF_IDS_KEPT and kept[-1] == released[0]["vif_id"]
    assert facts_sections.release_fixed_ips(document, network.uuid, [make_request(0).instance_uuid]) == []
    assert [r["address"] for r in facts_sections.fixed_ips_of(document, network.uuid)] == ["10.1.0.4", "10.1.0.5"]
