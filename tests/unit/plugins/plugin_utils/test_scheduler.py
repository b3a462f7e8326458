"""plugin_utils/scheduler.py: host states from hostvars, the filters, the RAM weigher, placements."""

import random

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.plugin_utils.request import find_flavor
from ansible_collections.novalite.compute.plugins.plugin_utils.scheduler import (
    DEFAULT_FILTERS, HostState, NoValidHost, host_states, place_instances, request_signature, schedule)

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


# --- server groups and ignore_hosts --------------------------------------------------------------

def group_hostvars(*members, used=(512, 512, 512)):
    """Three hosts with equal capacity; ``members`` are (host, record fields) already recorded."""
    hostvars = {}
    for index, used_mb in enumerate(used):
        name = "compute%d" % (index + 1)
        records = {m["uuid"]: dict(m, host=name) for host, m in members if host == name}
        hostvars[name] = {"ansible_facts": {"novalite_compute_node": node(used_mb=used_mb)},
                          "ansible_local": {"novalite": {"schema_version": 1, "instances": records}}}
    return hostvars


def member(uid, group="web", policy="anti-affinity", project="p1"):
    return {"uuid": uid, "name": "instance-%s" % uid, "flavor": TINY, "project_id": project, "vm_state": "active",
            "server_group": group, "server_group_policy": policy}


HOSTS = ["compute1", "compute2", "compute3"]


def test_anti_affinity_puts_every_member_on_a_host_of_its_own_and_counts_recorded_members():
    hostvars = group_hostvars(("compute2", member("old")))
    new = [member("a"), member("b")]
    result = place_instances(new, hostvars, HOSTS, {}, {})
    assert sorted(result["placements"].values()) == ["compute1", "compute3"]
    with pytest.raises(NoValidHost) as refused:
        place_instances([member("c"), member("d"), member("e")], hostvars, HOSTS, {}, {})
    assert "server_group_anti_affinity_filter: server group web (anti-affinity) has a member on it" in refused.value.msg


def test_affinity_puts_the_members_together_where_the_first_went():
    placed = place_instances([member("a", policy="affinity"), member("b", policy="affinity")],
                             group_hostvars(used=(2048, 512, 1024)), HOSTS, {}, {})
    assert set(placed["placements"].values()) == {"compute2"}  # the most free RAM, then the group's host
    hostvars = group_hostvars(("compute3", member("old", policy="affinity")))
    assert place_instances([member("c", policy="affinity")], hostvars, HOSTS, {}, {})["placements"] == {
        "c": "compute3"}


def test_groups_are_per_project_and_plain_instances_are_not_in_any():
    hostvars = group_hostvars(("compute1", member("x", project="p2")), ("compute2", dict(member("y"), server_group=None)))
    result = place_instances([member("a"), member("b"), member("c")], hostvars, HOSTS, {}, {})
    assert sorted(result["placements"].values()) == HOSTS


def test_ignore_hosts_are_never_chosen_and_are_named_when_nothing_else_fits():
    hostvars = group_hostvars()
    result = place_instances([{"uuid": "a", "name": "instance-a", "flavor": TINY}], hostvars, HOSTS, {}, {},
                             ignore_hosts=["compute1", "compute2"])
    assert result["placements"] == {"a": "compute3"}
    with pytest.raises(NoValidHost, match=r"ignore_hosts_filter: the request ignores this host \(an instance that moves leaves it\)"):
        place_instances([{"uuid": "b", "name": "instance-b", "flavor": TINY}], hostvars, HOSTS, {}, {},
                        ignore_hosts=HOSTS)


# --- verdicts kept between requests of one batch ---------------------------------------------------

def always_pass(host, request):
    return None


def mixed_batch(seed, size):
    """Hosts whose free RAM (the weight) and disk or cores (filters) disagree, and a batch of mixed requests."""
    rng = random.Random(seed)
    nodes = [node(memory_mb=rng.choice((4096, 8192, 16384)), used_mb=rng.randrange(0, 4096, 512), vcpus=rng.choice((2, 4)),
                  local_gb=rng.choice((30, 60, 400))) for _index in range(5)]
    flavors = [TINY, find_flavor("m1.small"), find_flavor("m1.medium")]
    extras = ({}, {}, {"target_host": "compute2"}, {"availability_zone": "az2"})
    batch = [req(str(n), flavor=rng.choice(flavors), **rng.choice(extras)) for n in range(size)]
    return nodes, batch


def placed_or_refused(nodes, batch, filters):
    state = hosts(*nodes)
    state[3].availability_zone = state[4].availability_zone = "az2"
    try:
        return schedule(batch, state, filters)
    except NoValidHost as refused:
        return refused.msg


def test_kept_verdicts_place_a_mixed_batch_as_filtering_every_host_each_time():
    """The kept verdicts give the placements (or the refusal) of filtering every host for every request."""
    outcomes = []
    for seed in range(12):
        nodes, batch = mixed_batch(seed, 3 + seed * 3)
        outcome = placed_or_refused(nodes, batch, DEFAULT_FILTERS)
        assert outcome == placed_or_refused(nodes, batch, DEFAULT_FILTERS + (always_pass,)), seed
        outcomes.append(isinstance(outcome, dict))
    assert True in outcomes and False in outcomes  # both a whole batch placed and a refusal were compared


def test_a_placement_is_seen_by_the_next_request_with_kept_verdicts():
    # compute1 keeps the most free RAM, but its disk holds one m1.small: the second goes to compute2
    small = find_flavor("m1.small")
    state = hosts(node(memory_mb=16384, local_gb=30), node(memory_mb=8192, local_gb=200))
    assert schedule([req("a", flavor=small), req("b", flavor=small)], state) == {"a": "compute1", "b": "compute2"}


@pytest.mark.parametrize("extra, signed", [({}, True), ({"image_properties": {"architecture": "x86_64"}}, True),
                                           ({"group": {"name": "g", "policy": "affinity", "hosts": set()}}, False),
                                           ({"image_properties": {"os": ["a"]}}, False)])
def test_request_signature_only_for_what_the_filters_read_alone(extra, signed):
    signature = request_signature(req("a", **extra))
    assert (signature is not None) == signed
    if signed:
        assert signature == request_signature(req("other-id", **extra))
