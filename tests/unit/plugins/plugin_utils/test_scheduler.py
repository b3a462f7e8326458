"""plugin_utils/scheduler.py: host states from hostvars, the filters, the RAM weigher, placements."""

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.plugin_utils.request import find_flavor
from ansible_collections.novalite.compute.plugins.plugin_utils.scheduler import (
    HostState, NoValidHost, host_states, place_instances, schedule)

TINY = find_flavor("m1.tiny")
LARGE = find_flavor("m1.large")


def node(memory_mb=4096, used_mb=512, vcpus=2, vcpus_used=0, local_gb=50, local_gb_used=0, **extra):
    record = {"memory_mb": memory_mb, "memory_mb_used": used_mb, "vcpus": vcpus, "vcpus_used": vcpus_used,
              "local_gb": local_gb, "local_gb_used": local_gb_used, "hypervisor_type": "QEMU", "cpu_arch": "x86_64"}
    record.update(extra)
    return record


def hosts(*nodes, **kwargs):
    return [HostState("compute%d" % (i + 1), n, **kwargs) for i, n in enumerate(nodes)]


def req(uid, flavor=TINY, **extra):
    request = {"id": uid, "label": "instance-%s" % uid, "flavor": flavor}
    request.update(extra)
    return request


def test_most_free_ram_wins():
    assert schedule([req("a")], hosts(node(used_mb=2048), node(used_mb=512))) == {"a": "compute2"}


def test_a_batch_spreads_across_equal_hosts():
    placed = schedule([req(str(i)) for i in range(4)], hosts(node(), node()))
    assert sorted(placed.values()) == ["compute1", "compute1", "compute2", "compute2"]


def test_ram_ratio_allows_overcommit_up_to_its_limit():
    # 1024 MB host, 512 reserved: 1024*1.5-512 = 1024 MB usable -> two m1.tiny, not three
    state = hosts(node(memory_mb=1024, used_mb=512))
    schedule([req("a"), req("b")], state)
    with pytest.raises(NoValidHost, match="ram_filter: 0 MB of RAM usable"):
        schedule([req("c")], state)


def test_no_valid_host_names_every_host_and_reason():
    with pytest.raises(NoValidHost) as caught:
        schedule([req("a", flavor=LARGE)], hosts(node(memory_mb=2048), node(vcpus=1, vcpus_used=16)))
    message = caught.value.msg
    assert "No valid host was found for instance-a (m1.large)" in message
    assert "compute1 (ram_filter" in message and "compute2 (" in message and "core_filter" in message


def test_disabled_host_and_target_host_and_zone():
    state = hosts(node(), node(), enabled=True)
    state[0].enabled = False
    assert schedule([req("a")], state) == {"a": "compute2"}
    state = hosts(node(), node(used_mb=3000))
    assert schedule([req("b", target_host="compute2")], state) == {"b": "compute2"}
    state[1].availability_zone = "az2"
    assert schedule([req("c", availability_zone="az2")], state) == {"c": "compute2"}
    with pytest.raises(NoValidHost, match="availability zone"):
        schedule([req("d", availability_zone="az9")], state)


def test_disk_filter_counts_root_and_ephemeral():
    small = find_flavor("m1.small")  # root_gb 20
    state = hosts(node(local_gb=30))
    schedule([req("a", flavor=small)], state)
    with pytest.raises(NoValidHost, match="disk_filter"):
        schedule([req("b", flavor=small)], state)


def test_image_properties_filter():
    state = hosts(node(cpu_arch="aarch64"), node())
    assert schedule([req("a", image_properties={"architecture": "x86_64"})], state) == {"a": "compute2"}
    with pytest.raises(NoValidHost, match="hypervisor xen"):
        schedule([req("b", image_properties={"hypervisor_type": "xen"})], state)


def test_a_host_without_the_compute_node_fact_is_named():
    with pytest.raises(NovaliteError, match="host compute1 has no novalite_compute_node fact"):
        host_states({"compute1": {}}, ["compute1"], {})


def test_the_compute_node_fact_is_read_from_ansible_facts_only():
    """A top-level variable of that name (a set_fact, an inventory variable) is not the host's fact."""
    with pytest.raises(NovaliteError, match="compute_node_facts"):
        host_states({"compute1": {"novalite_compute_node": node()}}, ["compute1"], {})
    [state] = host_states({"compute1": {"ansible_facts": {"novalite_compute_node": node()},
                                        "novalite_availability_zone": "az2", "novalite_compute_enabled": False}},
                          ["compute1"], {"ram": 2.0})
    assert (state.name, state.availability_zone, state.enabled, state.ratios["ram"]) == ("compute1", "az2", False, 2.0)


def test_placed_instances_keep_their_host_and_the_others_get_one():
    hostvars = {name: {"ansible_facts": {"novalite_compute_node": node(used_mb=used)}}
                for name, used in (("compute1", 2048), ("compute2", 512))}
    instances = [{"uuid": "a", "name": "instance-00000001", "flavor": TINY, "host": "compute1"},
                 {"uuid": "b", "name": "instance-00000002", "flavor": TINY}]
    result = place_instances(instances, hostvars, ["compute1", "compute2"], {}, {})
    assert result["placements"] == {"b": "compute2"} and result["changed"] is False
    assert [r["host"] for r in result["instances"]] == ["compute1", "compute2"]
    assert result["hosts_used"] == ["compute1", "compute2"]
