"""How a host compares with its records (compute/host_state.py): what a create run would still do."""

from ansible_collections.novalite.compute.plugins.module_utils.compute import host_state
from ansible_collections.novalite.compute.plugins.module_utils.compute.host_state import (
    domain_power_states, network_differences)
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import empty_document


class Domain:
    def __init__(self, name, state):
        self._name, self._state = name, state

    def name(self):
        return self._name

    def state(self):
        return [self._state, 0]


class Domains:
    def listAllDomains(self, flags):
        assert flags == 0
        return [Domain("instance-00000001", 1), Domain("instance-00000002", 5), Domain("instance-00000003", 3)]


def record(uuid, name, vm_state="active", task_state=None):
    return {"uuid": uuid, "name": name, "vm_state": vm_state, "task_state": task_state}


def test_domains_are_read_in_nova_power_states():
    assert domain_power_states(Domains()) == {"instance-00000001": 1, "instance-00000002": 4, "instance-00000003": 3}


def test_only_active_instances_whose_domains_run_are_in_place():
    records = [record("a", "instance-00000001"), record("b", "instance-00000002"),
               record("c", "instance-00000004"), record("d", "instance-00000005", vm_state="building"),
               record("e", "instance-00000006", task_state="spawning"), record("f", "instance-00000007", "deleted")]
    powers = {"instance-00000001": 1, "instance-00000002": 4, "instance-00000005": 1, "instance-00000006": 1}
    state = host_state.host_state(records, powers, [])
    assert state["in_place"] == ["a"]
    assert state["power_states"] == {"a": 1, "b": 4, "c": 0, "d": 1, "e": 1}  # c has no domain; f is deleted
    assert state["network_changes"] == []


def test_nothing_is_in_place_while_the_network_differs_from_the_records():
    state = host_state.host_state([record("a", "instance-00000001")], {"instance-00000001": 1}, ["iptables"])
    assert state["in_place"] == [] and state["network_changes"] == ["iptables"]


def test_a_host_without_networks_compares_only_the_host_wide_rules_and_addresses(monkeypatch):
    commands = []

    class Step:
        def __init__(self, name, changed):
            self.name, self.changed = name, changed

    def steps(run_command, find_optional, locks_path, document):
        commands.append(document)
        return [Step("metadata address", False), Step("iptables", True)]

    monkeypatch.setattr(host_state, "host_steps", steps)
    document = empty_document()
    assert network_differences(None, None, document, "/nonexistent") == ["iptables"]
    assert commands == [document]


def test_a_probe_that_fails_is_a_difference_not_a_failure(monkeypatch):
    def broken(*args):
        raise OSError("ip: not found")

    monkeypatch.setattr(host_state, "host_steps", broken)
    assert network_differences(None, None, empty_document(), "/nonexistent") == ["not compared (ip: not found)"]
