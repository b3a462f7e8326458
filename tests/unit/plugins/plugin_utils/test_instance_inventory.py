from ansible_collections.novalite.compute.plugins.plugin_utils.instance_inventory import (
    fixed_ip, group_name, instance_hosts)

VIF = {"network": {"subnets": [{"ips": [{"address": "10.1.0.2"}]}]}}


def record(uuid, display, name, state="active", project="p1"):
    return {"uuid": uuid, "display_name": display, "name": name, "vm_state": state, "project_id": project,
            "flavor": {"name": "m1.tiny"}, "image_ref": "66c5", "image_name": "cirros-test-image",
            "network_info": [VIF]}


def facts(*records):
    return {"ansible_local": {"novalite": {"instances": {r["uuid"]: r for r in records}}}}


def test_fixed_ip_of_first_vif():
    assert fixed_ip({"network_info": [VIF]}) == "10.1.0.2"
    assert fixed_ip({"network_info": []}) is None


def test_hosts_groups_and_variables():
    [entry] = instance_hosts({"compute1": facts(record("a", "web", "instance-00000001"))}, ["active"])
    assert entry["inventory_name"] == "web"
    assert entry["variables"]["ansible_host"] == "10.1.0.2"
    assert entry["variables"]["novalite_compute_host"] == "compute1"
    assert sorted(entry["groups"]) == ["compute_compute1", "flavor_m1_tiny", "image_cirros_test_image", "project_p1",
                                       "vm_state_active"]


def test_the_lifecycle_states_and_the_server_group_are_groups_and_variables():
    stopped = dict(record("a", "web", "instance-00000001", state="stopped"), power_state=4, task_state=None,
                   server_group="web-group", server_group_policy="anti-affinity")
    [entry] = instance_hosts({"compute1": facts(stopped)}, ["stopped"])
    assert {"vm_state_stopped", "power_state_shutdown", "server_group_web_group"} <= set(entry["groups"])
    assert (entry["variables"]["novalite_vm_state"], entry["variables"]["novalite_power_state"],
            entry["variables"]["novalite_task_state"]) == ("stopped", "shutdown", None)
    assert instance_hosts({"compute1": facts(stopped)}, ["active"]) == []


def test_duplicate_display_names_fall_back_to_instance_names_and_states_filter():
    entries = instance_hosts({"c1": facts(record("a", "web", "instance-00000001")),
                              "c2": facts(record("b", "web", "instance-00000002", project="p2"),
                                          record("c", "old", "instance-00000003", state="deleted"))},
                             ["active"])
    assert sorted(e["inventory_name"] for e in entries) == ["instance-00000001", "instance-00000002"]


def test_hosts_without_novalite_facts_are_skipped():
    assert instance_hosts({"c1": {}, "c2": None, "c3": {"ansible_local": {}}}, ["active"]) == []


def test_group_names_are_safe():
    assert group_name("image", "my image.v1") == "image_my_image_v1"


def test_ansible_host_is_the_floating_ip_when_there_is_one_unless_told_otherwise():
    floating_vif = {"network": {"subnets": [{"ips": [{"address": "10.1.0.2", "floating_ips": [
        {"address": "192.168.96.129", "type": "floating"}]}]}]}}
    web = dict(record("a", "web", "instance-00000001"), network_info=[floating_vif])
    [entry] = instance_hosts({"compute1": facts(web)}, ["active"])
    assert entry["variables"]["ansible_host"] == "192.168.96.129"
    assert (entry["variables"]["novalite_fixed_ip"], entry["variables"]["novalite_floating_ip"]) == (
        "10.1.0.2", "192.168.96.129")
    [fixed] = instance_hosts({"compute1": facts(web)}, ["active"], use_floating_ip=False)
    assert fixed["variables"]["ansible_host"] == "10.1.0.2"
    [plain] = instance_hosts({"compute1": facts(record("b", "db", "instance-00000002"))}, ["active"])
    assert plain["variables"]["ansible_host"] == "10.1.0.2" and plain["variables"]["novalite_floating_ip"] is None
