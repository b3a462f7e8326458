"""nova_network's service against a fake host: plans, check mode, idempotency, rollback."""

import os
import shutil
import signal
import tempfile

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import CommandFailed, InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.network.dnsmasq_process import DnsmasqProcess
from ansible_collections.novalite.compute.plugins.module_utils.network.host_request import HostNetworkRequest
from ansible_collections.novalite.compute.plugins.module_utils.network.host_service import HostTools, converge

DEFAULTS = {"instances": None, "dhcp_server": None, "host": "compute1", "state": "present", "remove_bridge": False,
            "dnsmasq_config_file": "", "dhcp_lease_time": 120}


@pytest.fixture
def open_dir():
    """Not pytest's tmp_path: that sits under a 0700 directory, which dnsmasq (and the check) refuse."""
    path = tempfile.mkdtemp(prefix="nl-network-unit-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture
def paths(open_dir):
    return {"networks_path": os.path.join(open_dir, "networks"),
            "facts_path": os.path.join(open_dir, "facts.d", "novalite.fact"),
            "locks_path": os.path.join(open_dir, "locks")}


@pytest.fixture
def converge_with(fake_host, paths, seed_params):
    tools = HostTools(fake_host.run_command, lambda name: "/usr/sbin/" + name, fake_host.proc_root,
                      fake_host.send_signal, fake_host.read_file)

    def run(check_mode=False, **params):
        request = HostNetworkRequest(dict(DEFAULTS, network=seed_params, **dict(paths, **params)), "ignored")
        return converge(request, tools, check_mode)
    return run


@pytest.fixture
def instances(uuid_of):
    return [{"instance_uuid": uuid_of(1), "instance_name": "instance-0000000a", "hostname": "vm1"}]


def test_docker_sequence_check_real_check_real(converge_with, fake_host, paths, instances):
    checked = converge_with(check_mode=True, instances=instances)
    assert checked["changed"] and fake_host.links.keys() == {"eth0"} and not os.path.exists(paths["facts_path"])
    assert set(checked["diff"]["after"]) == {"facts", "bridge", "ip_forward", "iptables", "dnsmasq"}
    real = converge_with(instances=instances)
    assert real["changed"] and real["dhcp_server"] == "10.1.0.3"
    assert real["fixed_ips"][0]["address"] == "10.1.0.2"
    bridge = fake_host.links["br100"]
    assert [a["local"] for a in bridge["addresses"]] == ["10.1.0.3", "192.168.96.80"]
    assert bridge["routes"] == [{"dst": "default", "gateway": "192.168.96.254", "flags": []}]
    assert fake_host.links["eth0"]["addresses"] == [] and fake_host.links["eth0"]["master"] == "br100"
    assert fake_host.iptables["FORWARD"] == ["-j nova-fwd-br100"]
    assert fake_host.ip_forward == "1"
    hosts_file = os.path.join(paths["networks_path"], "nova-br100.conf")
    line = "%s,vm1.novalocal,10.1.0.2\n" % real["fixed_ips"][0]["mac"]
    assert open(hosts_file).read() == line and os.stat(hosts_file).st_mode & 0o777 == 0o644
    commands = len(fake_host.commands)
    for check_mode in (True, False):
        again = converge_with(check_mode=check_mode, instances=instances)
        assert again["changed"] is False and again["diff"] == {"before": {}, "after": {}}
        assert again["fixed_ips"] == real["fixed_ips"] and again["dnsmasq_pid"] == real["dnsmasq_pid"]
    assert not [c for c in fake_host.commands[commands:] if c[:2] in (["ip", "-batch"], ["iptables-restore", "-w"])]


def test_new_instance_is_applied_with_sighup_not_a_restart(converge_with, fake_host, instances, uuid_of):
    first = converge_with(instances=instances)
    second = converge_with(instances=instances + [{"instance_uuid": uuid_of(2), "hostname": "vm2"}])
    assert second["changed"] and second["dnsmasq_pid"] == first["dnsmasq_pid"]
    assert (first["dnsmasq_pid"], signal.SIGHUP) in fake_host.signals
    assert second["fixed_ips"][1]["address"] == "10.1.0.4"


def test_dead_dnsmasq_is_started_and_other_flags_replace_it(converge_with, fake_host, instances):
    first = converge_with(instances=instances)
    fake_host.kill_dnsmasq(first["dnsmasq_pid"])
    restarted = converge_with(instances=instances)
    assert restarted["changed"] and restarted["diff"]["after"]["dnsmasq"]["running"]
    assert restarted["dnsmasq_pid"] != first["dnsmasq_pid"]
    replaced = converge_with(instances=instances, dhcp_lease_time=600)
    assert replaced["changed"] and replaced["dnsmasq_pid"] != restarted["dnsmasq_pid"]
    assert (restarted["dnsmasq_pid"], signal.SIGTERM) in fake_host.signals


def test_a_failing_dnsmasq_start_rolls_everything_back(converge_with, fake_host, paths, instances):
    fake_host.fail_on = "dnsmasq"
    with pytest.raises(CommandFailed) as error:
        converge_with(instances=instances)
    assert error.value.details["rolled_back"] == ["dnsmasq", "iptables", "ip_forward", "bridge"]
    assert error.value.details["rollback_failures"] == []
    assert set(fake_host.links) == {"eth0"}
    assert fake_host.links["eth0"]["addresses"] == [{"local": "192.168.96.80", "prefixlen": 24}]
    assert fake_host.links["eth0"]["routes"] and fake_host.links["eth0"]["master"] is None
    assert fake_host.iptables == {"INPUT": [], "FORWARD": [], "OUTPUT": []} and fake_host.ip_forward == "0"
    assert not os.path.exists(paths["facts_path"])
    assert not os.path.exists(os.path.join(paths["networks_path"], "nova-br100.conf"))


def test_an_address_held_by_another_instance_is_refused_before_any_change(converge_with, fake_host, instances,
                                                                          uuid_of, paths):
    converge_with(instances=instances)
    facts_before = open(paths["facts_path"]).read()
    commands = len(fake_host.commands)
    with pytest.raises(InvalidInput, match="address 10.1.0.2 requested for instance .* is already held by instance"):
        converge_with(instances=[{"instance_uuid": uuid_of(5), "hostname": "vm5", "address": "10.1.0.2"}])
    assert open(paths["facts_path"]).read() == facts_before
    assert all(c[:2] != ["ip", "-batch"] for c in fake_host.commands[commands:])


def test_release_removes_the_line_hups_and_frees_the_address(converge_with, fake_host, instances, paths,
                                                             uuid_of):
    first = converge_with(instances=instances)
    released = converge_with(state="absent", instances=[{"instance_uuid": uuid_of(1)}])
    assert released["changed"] and released["released"] == ["10.1.0.2"]
    assert open(os.path.join(paths["networks_path"], "nova-br100.conf")).read() == ""
    assert fake_host.signals[-1] == (first["dnsmasq_pid"], signal.SIGHUP)
    assert converge_with(state="absent", instances=[{"instance_uuid": uuid_of(1)}])["changed"] is False
    reused = converge_with(instances=[{"instance_uuid": uuid_of(7), "hostname": "vm7"}])
    assert reused["fixed_ips"][0]["address"] == "10.1.0.2"


def test_release_probes_dnsmasq_once_and_keeps_its_flags(converge_with, fake_host, instances, uuid_of, monkeypatch):
    first = converge_with(instances=instances)
    probes, probe = [], DnsmasqProcess.running
    monkeypatch.setattr(DnsmasqProcess, "running", lambda process: probes.append(process) or probe(process))
    released = converge_with(state="absent", instances=[{"instance_uuid": uuid_of(1)}])
    assert len(probes) == 1
    dnsmasq = released["diff"]["before"]["dnsmasq"], released["diff"]["after"]["dnsmasq"]
    assert dnsmasq[0]["arguments"] == dnsmasq[1]["arguments"] and dnsmasq[1]["running"]
    assert released["dnsmasq_pid"] == first["dnsmasq_pid"]


def test_release_does_not_bring_a_dead_dnsmasq_back(converge_with, fake_host, instances, uuid_of):
    first = converge_with(instances=instances)
    fake_host.kill_dnsmasq(first["dnsmasq_pid"])
    released = converge_with(state="absent", instances=[{"instance_uuid": uuid_of(1)}])
    assert released["released"] == ["10.1.0.2"] and released["dnsmasq_pid"] is None
    assert released["diff"]["after"]["dnsmasq"]["running"] is False
    assert released["diff"]["after"]["dnsmasq"]["arguments"] is None
    assert not [c for c in fake_host.commands if c[0].endswith("dnsmasq")][1:]


def test_teardown_refuses_while_instances_hold_addresses_then_removes_everything(
        converge_with, fake_host, instances, paths, uuid_of):
    converge_with(instances=instances)
    with pytest.raises(InvalidInput, match="still holds 1 fixed IPs on this host"):
        converge_with(state="absent")
    converge_with(state="absent", instances=[{"instance_uuid": uuid_of(1)}])
    down = converge_with(state="absent", remove_bridge=True)
    assert down["changed"] and down["dnsmasq_pid"] is None
    assert set(fake_host.links) == {"eth0"} and fake_host.links["eth0"]["master"] is None
    assert [a["local"] for a in fake_host.links["eth0"]["addresses"]] == ["192.168.96.80"]
    assert fake_host.links["eth0"]["routes"][0]["gateway"] == "192.168.96.254"
    assert fake_host.iptables == {"INPUT": [], "FORWARD": [], "OUTPUT": []}
    assert os.listdir(paths["networks_path"]) == []
    assert FactsStore(paths["facts_path"]).load()["networks"] == {}
    assert converge_with(state="absent", remove_bridge=True)["changed"] is False


def test_a_networks_path_dnsmasq_cannot_reach_is_refused(converge_with, fake_host, instances, open_dir):
    os.chmod(open_dir, 0o700)
    with pytest.raises(InvalidInput, match="is not searchable by others"):
        converge_with(instances=instances)
    assert set(fake_host.links) == {"eth0"}
