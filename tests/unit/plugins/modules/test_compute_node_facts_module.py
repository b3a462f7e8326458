"""The compute_node_facts module as Ansible runs it: documentation, the read-only connection, failures."""

import json

import libvirt

from ansible_collections.novalite.compute.plugins.module_utils.compute import host_state, resource_tracker
from ansible_collections.novalite.compute.plugins.module_utils.compute.host_state import STATE_FACT
from ansible_collections.novalite.compute.plugins.module_utils.compute.resource_tracker import NODE_FACT
from ansible_collections.novalite.compute.plugins.modules import compute_node_facts
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.compute.test_resource_tracker import FakeConnection
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import libvirt_error
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import (
    assert_documented, run_main)


class NodeConnection(FakeConnection):
    """Just what the resource tracker asks of libvirt, on a host without the nwfilter driver."""

    closed = False

    def listNWFilters(self):
        raise libvirt_error(libvirt.VIR_ERR_NO_SUPPORT, "this function is not supported by the connection driver")

    def close(self):
        self.closed = True


def test_documentation_matches_the_argument_spec():
    assert_documented(compute_node_facts)


def test_reports_the_node_over_a_read_only_connection(monkeypatch, tmp_path, capsys):
    node_conn = NodeConnection()
    opened = []
    monkeypatch.setattr(libvirt, "openReadOnly", lambda uri: opened.append(uri) or node_conn)
    monkeypatch.setattr(libvirt, "open", lambda uri: opened.append("read-write") or node_conn)
    result = run_main(compute_node_facts, {"uri": "test:///default", "instances_path": str(tmp_path),
                                           "facts_path": str(tmp_path / "novalite.fact")}, capsys)
    node = result["ansible_facts"][NODE_FACT]
    assert opened == ["test:///default"] and node_conn.closed and result["changed"] is False
    assert node["nwfilter_driver"] is False and node["memory_mb"] == 24000 and node["running_vms"] == 0
    assert set(result) - {"invocation"} == {"changed", "ansible_facts"}  # nothing else: a facts module


def test_without_libvirt_python_it_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(resource_tracker, "libvirt", None)
    result = run_main(compute_node_facts, {"facts_path": str(tmp_path / "novalite.fact")}, capsys)
    assert result["failed"] and "libvirt-python (python3-libvirt)" in result["msg"]


def test_a_failed_connection_names_the_uri(monkeypatch, tmp_path, capsys):
    def refuse(uri):
        raise libvirt_error(libvirt.VIR_ERR_NO_CONNECT, "no connection driver available for %s" % uri)

    monkeypatch.setattr(libvirt, "openReadOnly", refuse)
    result = run_main(compute_node_facts, {"uri": "nope:///", "facts_path": str(tmp_path / "novalite.fact")}, capsys)
    assert result["failed"]
    assert result["msg"] == "cannot connect to libvirt at nope:///: no connection driver available for nope:///"


class DomainsConnection(NodeConnection):
    def listAllDomains(self, flags):
        return []


def test_one_call_also_reads_the_records_and_the_host_state(monkeypatch, tmp_path, capsys):
    facts = tmp_path / "novalite.fact"
    facts.write_text(json.dumps({"schema_version": 1, "instances": {"u1": {
        "uuid": "u1", "name": "instance-00000001", "vm_state": "active", "task_state": None,
        "flavor": {"memory_mb": 64, "vcpus": 1, "root_gb": 1}}}}))
    monkeypatch.setattr(libvirt, "openReadOnly", lambda uri: DomainsConnection())
    monkeypatch.setattr(host_state, "network_differences", lambda *args: [])
    args = {"instances_path": str(tmp_path), "facts_path": str(facts), "local_facts": True, "host_state": True}
    result = run_main(compute_node_facts, args, capsys)["ansible_facts"]
    assert result["ansible_local"]["novalite"]["instances"]["u1"]["vm_state"] == "active"
    assert result[NODE_FACT]["running_vms"] == 1
    # the record says active, but libvirt has no such domain: not in place, a create must build it again
    assert result[STATE_FACT] == {"power_states": {"u1": 0}, "network_changes": [], "in_place": []}


def test_without_a_facts_document_ansible_local_is_empty_as_setup_leaves_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(libvirt, "openReadOnly", lambda uri: DomainsConnection())
    args = {"instances_path": str(tmp_path), "facts_path": str(tmp_path / "novalite.fact"), "local_facts": True}
    result = run_main(compute_node_facts, args, capsys)["ansible_facts"]
    assert result["ansible_local"] == {} and STATE_FACT not in result
