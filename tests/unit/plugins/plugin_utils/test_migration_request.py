"""plugin_utils/migration_request.py: finding instances, every refusal before anything changes, the
scheduler's choice for a move, the network on the target, and the moves that end resizes."""

import copy

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import Catalog
from ansible_collections.novalite.compute.plugins.plugin_utils.instance_lookup import UnknownInstance, find_instances
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import ReservationLedger
from ansible_collections.novalite.compute.plugins.plugin_utils.migration_request import (
    MoveRefused, plan_moves, step_groups)
from ansible_collections.novalite.compute.plugins.plugin_utils.request import QuotaExceeded, find_flavor
from ansible_collections.novalite.compute.plugins.plugin_utils.scheduler import HostState, schedule_moves

TINY, SMALL = find_flavor("m1.tiny"), find_flavor("m1.small")
BIGGER = dict(TINY, name="t1.bigger", memory_mb=768, vcpus=2, root_gb=1)
NETWORK = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
           "gateway": "10.1.0.1", "dhcp_start": "10.1.0.2", "bridge": "br100", "bridge_interface": "eth0",
           "multi_host": True}
IMAGE = "6172f6e7-9eb4-54c3-9a3e-e53169eb01b9"
UUIDS = ["4b2004c9-348b-4cb0-a72f-b8026e7f6cd%d" % n for n in range(6)]


def record(n, host, flavor=TINY, **extra):
    fields = {"uuid": UUIDS[n], "id": n + 1, "name": "instance-%08x" % (n + 1), "display_name": "web-%d" % n,
              "hostname": "web-%d" % n, "project_id": "default", "host": host, "flavor": flavor, "image_ref": IMAGE,
              "kernel_id": None, "ramdisk_id": None, "vm_state": "active", "power_state": 1, "task_state": None,
              "network_info": [{"address": "fa:16:3e:00:00:%02x" % n}], "security_groups": ["default"]}
    fields.update(extra)
    return fields


def document(host, records, dhcp_server=None, migrations=None):
    fixed_ips = {"10.1.0.%d" % (10 + r["id"]): {
        "address": "10.1.0.%d" % (10 + r["id"]), "network_id": NETWORK["uuid"], "mac": r["network_info"][0]["address"],
        "vif_id": "99a3c937-1a0f-48f7-8015-166d7644e9a%d" % r["id"], "instance_uuid": r["uuid"],
        "instance_name": r["name"], "hostname": r["hostname"], "host": host} for r in records}
    networks = {NETWORK["uuid"]: dict(NETWORK, dhcp_server=dhcp_server, host=host)} if dhcp_server else {}
    return {"schema_version": 1, "instances": {r["uuid"]: r for r in records}, "fixed_ips": fixed_ips,
            "networks": networks, "migrations": migrations or {}}


def node(memory_mb=4096, used_mb=512, vcpus=4, vcpus_used=0, local_gb=50, local_gb_used=0):
    return {"memory_mb": memory_mb, "memory_mb_used": used_mb, "vcpus": vcpus, "vcpus_used": vcpus_used,
            "local_gb": local_gb, "local_gb_used": local_gb_used, "hypervisor_type": "QEMU", "cpu_arch": "x86_64"}


def hostvars(**nodes):
    return {name: {"ansible_facts": {"novalite_compute_node": value}, "novalite_compute_enabled": enabled}
            for name, (value, enabled) in nodes.items()}


def args(operation, name="web", **extra):
    values = {"operation": operation, "name": name, "project_id": "default", "flavor": None, "flavors": {},
              "quotas": {}, "target_host": None, "auto_confirm": False,
              "migration_uri": "qemu+ssh://root@%s/system", "migration_addresses": {"compute2": "169.254.9.81"},
              "ram_allocation_ratio": 1.5, "cpu_allocation_ratio": 16.0, "disk_allocation_ratio": 1.0}
    values.update(extra)
    return values


@pytest.fixture
def cluster():
    """web-0 on compute1 (with its DHCP server 10.1.0.3), compute2 serving the network from 10.1.0.5."""
    documents = {"compute1": document("compute1", [record(0, "compute1")], dhcp_server="10.1.0.3"),
                 "compute2": document("compute2", [], dhcp_server="10.1.0.5")}
    return documents, hostvars(compute1=(node(), True), compute2=(node(), True))


def test_instances_are_found_by_name_batch_name_and_uuid(cluster):
    documents, _hostvars = cluster
    documents["compute2"]["instances"][UUIDS[1]] = record(1, "compute2", display_name="web-1")
    assert [r["uuid"] for _h, r in find_instances(documents, "web", "default")] == [UUIDS[0], UUIDS[1]]
    assert [h for h, _r in find_instances(documents, UUIDS[1], "default")] == ["compute2"]
    assert find_instances(documents, "web", "other-project", missing_ok=True) == []
    with pytest.raises(UnknownInstance, match="no instance named web .* in project other-project"):
        find_instances(documents, "web", "other-project")


def test_an_unknown_instance_is_refused(cluster):
    documents, variables = cluster
    with pytest.raises(UnknownInstance, match=r"no instance named nosuch \(display name nosuch or nosuch-N, or that "
                                              r"uuid\) in project default on compute1, compute2"):
        plan_moves(args("migrate", "nosuch"), documents, variables)


def test_an_instance_recorded_on_two_hosts_is_refused_and_an_unknown_confirm_too(cluster):
    documents, variables = cluster
    documents["compute2"]["instances"][UUIDS[0]] = record(0, "compute2")
    with pytest.raises(InvalidInput, match="instances recorded on more than one host"):
        plan_moves(args("migrate"), documents, variables)
    with pytest.raises(UnknownInstance, match="no instance named nosuch .* in project default"):
        plan_moves(args("confirm", "nosuch"), documents, variables)


def test_a_resize_stays_on_its_host_when_the_new_flavor_fits(cluster):
    documents, variables = cluster
    result = plan_moves(args("resize", flavor="m1.small"), documents, variables)
    [move] = result["moves"]
    assert (move["source"], move["target"], move["same_host"]) == ("compute1", "compute1", True)
    assert move["target_uri"] is None and move["networks"] == []
    assert move["final_record"]["vm_state"] == "resized"
    assert move["final_record"]["old_flavor"]["name"] == "m1.tiny" and move["final_record"]["old_host"] == "compute1"
    assert move["moving_record"]["task_state"] == "resize_migrating"
    assert result["step_groups"] == {"novalite_resize_sources": ["compute1"], "novalite_resize_targets": ["compute1"]}


def test_a_resize_moves_when_its_host_is_full(cluster):
    documents, variables = cluster
    variables["compute1"]["ansible_facts"]["novalite_compute_node"] = node(used_mb=5800)
    [move] = plan_moves(args("resize", flavor="m1.small"), documents, variables)["moves"]
    assert move["target"] == "compute2" and not move["same_host"]


def test_a_smaller_root_disk_is_refused_before_anything(cluster):
    documents, variables = cluster
    documents["compute1"]["instances"][UUIDS[0]]["flavor"] = SMALL
    with pytest.raises(MoveRefused, match="flavor m1.tiny has a 0 GB root disk, smaller than the 20 GB of m1.small"):
        plan_moves(args("resize", flavor="m1.tiny"), documents, variables)


def test_the_quota_is_checked_for_the_growth_only(cluster):
    documents, variables = cluster
    bigger = {"t1.bigger": {"memory_mb": 768, "vcpus": 2, "root_gb": 1}}
    quotas = {"cores": 2, "ram": 100000}
    plan_moves(args("resize", flavor="t1.bigger", flavors=bigger, quotas=quotas), documents, variables)  # 1 + 1 fits
    documents["compute2"] = document("compute2", [record(1, "compute2", display_name="x")], dhcp_server="10.1.0.5")
    message = "quota exceeded for cores in project default: the resize adds 1, in use 2, limit 2"
    with pytest.raises(QuotaExceeded, match=message):
        plan_moves(args("resize", flavor="t1.bigger", flavors=bigger, quotas=quotas), documents, variables)


def test_a_resize_to_the_flavor_it_has_changes_nothing(cluster):
    documents, variables = cluster
    result = plan_moves(args("resize", flavor="m1.tiny"), documents, variables)
    assert result["moves"] == [] and result["changed"] is False
    assert result["unchanged"][0]["reason"] == "has flavor m1.tiny already"


def test_a_resize_needs_a_flavor(cluster):
    documents, variables = cluster
    with pytest.raises(InvalidInput, match="a resize needs the new flavor"):
        plan_moves(args("resize"), documents, variables)


def test_a_migration_goes_elsewhere_with_the_instance_network(cluster):
    documents, variables = cluster
    [move] = plan_moves(args("migrate"), documents, variables)["moves"]
    assert move["target"] == "compute2"
    assert move["target_uri"] == "qemu+ssh://root@169.254.9.81/system"
    assert move["migration_address"] == "169.254.9.81"
    [network] = move["networks"]
    assert network["dhcp_server"] == "10.1.0.5"  # the target's own
    assert network["definition"]["uuid"] == NETWORK["uuid"] and "dhcp_server" not in network["definition"]
    assert network["instances"] == [{"instance_uuid": UUIDS[0], "instance_name": "instance-00000001",
                                     "hostname": "web-0", "address": "10.1.0.11", "mac": "fa:16:3e:00:00:00",
                                     "vif_id": "99a3c937-1a0f-48f7-8015-166d7644e9a1"}]


def test_a_migration_never_picks_the_host_the_instance_is_on(cluster):
    documents, variables = cluster
    variables["compute2"]["novalite_compute_enabled"] = False
    with pytest.raises(MoveRefused) as refused:
        plan_moves(args("migrate"), documents, variables)
    assert "compute1 (ignore_hosts_filter: the request ignores this host (an instance that moves leaves it)" in refused.value.msg
    assert "compute2 (compute_filter: the host is disabled)" in refused.value.msg


def test_a_target_without_room_is_refused_naming_its_ram(cluster):
    documents, variables = cluster
    variables["compute2"]["ansible_facts"]["novalite_compute_node"] = node(memory_mb=1024, used_mb=1200)
    with pytest.raises(MoveRefused, match=r"compute2 \(ram_filter: 336 MB of RAM usable"):
        plan_moves(args("live_migrate", target_host="compute2"), documents, variables)


def test_a_migration_to_the_host_it_is_on_changes_nothing(cluster):
    documents, variables = cluster
    result = plan_moves(args("live_migrate", target_host="compute1"), documents, variables)
    assert result["moves"] == [] and result["unchanged"][0]["reason"] == "is on compute1 already"


def test_a_target_that_is_not_a_compute_host_is_refused(cluster):
    documents, variables = cluster
    with pytest.raises(MoveRefused, match="target_host compute9 is not one of the compute hosts"):
        plan_moves(args("migrate", target_host="compute9"), documents, variables)


@pytest.mark.parametrize("state, task, operation, cause", [
    ("resized", None, "live_migrate", "awaits confirm or revert"),
    ("error", None, "migrate", "is error: migrate needs it active or stopped"),
    ("active", "rebooting", "resize", "(task rebooting)"),
    ("stopped", None, "live_migrate", "live migrate needs it active"),
], ids=["resized", "error", "busy", "stopped-live"])
def test_an_action_the_state_does_not_allow_is_refused(cluster, state, task, operation, cause):
    documents, variables = cluster
    instance = documents["compute1"]["instances"][UUIDS[0]]
    instance.update(vm_state=state, task_state=task, old_flavor=TINY, old_host="compute2")
    with pytest.raises(MoveRefused) as refused:
        plan_moves(args(operation, flavor="m1.small"), documents, variables)
    assert cause in refused.value.msg


def test_a_move_to_another_host_needs_the_image_in_the_catalog(cluster):
    documents, variables = cluster
    catalog = Catalog([])
    with pytest.raises(MoveRefused, match="its image_ref %s is not in the image catalog" % IMAGE):
        plan_moves(args("migrate"), documents, variables, catalog=catalog)


def test_a_target_that_serves_no_dhcp_yet_gets_a_free_address_reserved_in_the_ledger(cluster, tmp_path):
    documents, variables = cluster
    documents["compute2"]["networks"] = {}
    ledger = ReservationLedger(str(tmp_path), name="ipam")
    [move] = plan_moves(args("migrate"), documents, variables, ledger=ledger)["moves"]
    assert move["networks"][0]["dhcp_server"] == "10.1.0.2"  # the lowest free (the instance holds .11)
    with ledger.session(write=False) as session:
        assert session.reserved("dhcp_servers/" + NETWORK["uuid"]) == {"compute2": "10.1.0.2"}


def test_confirm_and_revert_come_from_the_resized_record_and_the_source_migration(cluster):
    documents, variables = cluster
    old = record(0, "compute1")
    resized = dict(old, host="compute2", flavor=BIGGER, vm_state="resized", old_flavor=TINY, old_host="compute1")
    documents["compute1"]["instances"] = {}
    documents["compute1"]["migrations"] = {UUIDS[0]: {
        "instance_uuid": UUIDS[0], "instance_name": old["name"], "display_name": "web-0", "project_id": "default",
        "source_compute": "compute1", "dest_compute": "compute2", "old_flavor": TINY, "new_flavor": BIGGER,
        "status": "finished", "old_record": old}}
    documents["compute2"]["instances"] = {UUIDS[0]: resized}
    confirm = plan_moves(args("confirm"), documents, variables)
    [move] = confirm["moves"]
    assert (move["source"], move["target"], move["same_host"]) == ("compute1", "compute2", False)
    assert move["reverted_record"] == dict(old, task_state=None)
    assert move["confirmed_record"]["vm_state"] == "active" and "old_flavor" not in move["confirmed_record"]
    assert confirm["step_groups"] == {"novalite_confirm_sources": ["compute1"],
                                      "novalite_confirm_targets": ["compute2"]}
    revert = plan_moves(args("revert"), documents, variables)
    assert revert["step_groups"] == {"novalite_revert_sources": ["compute1"], "novalite_revert_targets": ["compute2"]}


def test_a_confirm_of_nothing_resized_changes_nothing_and_cleans_up_after_deleted_ones(cluster):
    documents, variables = cluster
    documents["compute2"]["migrations"] = {UUIDS[3]: {
        "instance_uuid": UUIDS[3], "instance_name": "instance-00000004", "display_name": "web-3",
        "project_id": "default", "source_compute": "compute2", "dest_compute": "compute1", "old_flavor": TINY,
        "new_flavor": BIGGER, "status": "finished", "old_record": record(3, "compute2")}}
    result = plan_moves(args("confirm"), documents, variables)
    assert result["unchanged"][0]["reason"] == "has no resize to confirm (vm_state active)"
    [orphan] = result["moves"]
    assert orphan["orphan"] and orphan["record"] is None and orphan["source"] == "compute2"
    assert result["step_groups"] == {"novalite_confirm_sources": ["compute2"]}


def test_a_resize_that_confirms_at_once_takes_the_confirm_groups_too(cluster):
    documents, variables = cluster
    result = plan_moves(args("resize", flavor="m1.small", auto_confirm=True), documents, variables)
    assert step_groups("resize", result["moves"]) == {
        "novalite_confirm_sources": ["compute1"], "novalite_confirm_targets": ["compute1"],
        "novalite_resize_sources": ["compute1"], "novalite_resize_targets": ["compute1"]}


def test_a_migration_needs_the_uri_template(cluster):
    documents, variables = cluster
    with pytest.raises(MoveRefused, match="needs novalite_migration_uri"):
        plan_moves(args("migrate", migration_uri=""), documents, variables)


def test_schedule_moves_counts_each_placement_for_the_next():
    states = [HostState("compute1", node(memory_mb=2048, used_mb=512)), HostState("compute2", node())]
    requests = [{"id": str(n), "label": str(n), "flavor": dict(TINY, memory_mb=1024), "ignore_hosts": ["compute1"]}
                for n in range(2)]
    assert schedule_moves(copy.deepcopy(requests), states) == {"0": "compute2", "1": "compute2"}
    full = [HostState("compute1", node()), HostState("compute2", node(memory_mb=2048, used_mb=1500))]
    with pytest.raises(NovaliteError, match="No valid host"):
        schedule_moves([dict(requests[0], flavor=dict(TINY, memory_mb=3000))], full)
