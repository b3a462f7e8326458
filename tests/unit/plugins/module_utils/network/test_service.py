"""nova_network's service against a fake host: plans, check mode, idempotency, rollback, release
from the host's records; and the facts sections and network_info it writes."""

import json
import multiprocessing
import os
import shutil
import signal
import tempfile

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import (
    CommandFailed, InvalidInput, NovaliteError)
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.network import dnsmasq, host_plan
from ansible_collections.novalite.compute.plugins.module_utils.network import records as service
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NetworkRecord
from ansible_collections.novalite.compute.plugins.module_utils.network.dnsmasq import DnsmasqProcess
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import (
    AllocationRequest, NetworkUsage, allocate)
from ansible_collections.novalite.compute.plugins.module_utils.network.records import network_info
from ansible_collections.novalite.compute.plugins.module_utils.network.service import (
    HostNetworkRequest, HostTools, converge_network, ensure_state)

DEFAULTS = {"instances": None, "dhcp_server": None, "host": "compute1", "state": "present", "remove_bridge": False,
            "dnsmasq_config_file": "", "dhcp_lease_time": 120, "dns_names": None, "floating_ips": [],
            "routing_source_ip": None, "public_interface": None, "dmz_cidr": [], "force_snat_range": [],
            "metadata_port": 8775}
# what a first run applies, in order; a failure at dnsmasq undoes them newest first
APPLIED = ["bridge", "ip_forward", "metadata address", "iptables", "dnsmasq", "metadata"]


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
            "locks_path": os.path.join(open_dir, "locks"),
            "instances_path": os.path.join(open_dir, "instances")}


@pytest.fixture
def converge_with(fake_host, paths, network_params):
    tools = HostTools(fake_host.run_command, lambda name: "/usr/sbin/" + name, fake_host.proc_root,
                      fake_host.send_signal, fake_host.read_file, find_optional=lambda name: "/usr/sbin/" + name,
                      python="/usr/bin/python3")

    def run(check_mode=False, **params):
        args = dict(DEFAULTS, network=network_params, **paths)
        args.update(params)
        return converge_network(HostNetworkRequest(args, "ignored"), tools, check_mode)
    return run


@pytest.fixture
def instances(uuid_of):
    return [{"instance_uuid": uuid_of(1), "instance_name": "instance-0000000a", "hostname": "vm1"}]


def test_docker_sequence_check_real_check_real(converge_with, fake_host, paths, instances):
    checked = converge_with(check_mode=True, instances=instances)
    assert checked["changed"] and fake_host.links.keys() == {"eth0"} and not os.path.exists(paths["facts_path"])
    assert set(checked["diff"]["after"]) == {"facts", "bridge", "ip_forward", "metadata address", "iptables",
                                             "dnsmasq", "metadata"}
    assert fake_host.lo == [] and fake_host.processes("python3") == []
    real = converge_with(instances=instances)
    assert real["changed"] and real["dhcp_server"] == "10.1.0.3"
    assert real["fixed_ips"][0]["address"] == "10.1.0.2"
    bridge = fake_host.links["br100"]
    assert [a["local"] for a in bridge["addresses"]] == ["10.1.0.3", "192.168.96.80"]
    assert bridge["routes"] == [{"dst": "default", "gateway": "192.168.96.254", "flags": []}]
    assert fake_host.links["eth0"]["addresses"] == [] and fake_host.links["eth0"]["master"] == "br100"
    assert fake_host.iptables["FORWARD"] == ["-j nova-fwd-br100"]
    assert fake_host.tables["nat"]["POSTROUTING"] == ["-j nova-network-POSTROUTING", "-j nova-network-snat"]
    assert fake_host.tables["nat"]["nova-network-snat"] == [
        "-j nova-network-float-snat", "-s 10.1.0.0/16 -o br100 -j SNAT --to-source 192.168.96.80"]
    assert fake_host.lo == [{"local": "169.254.169.254", "prefixlen": 32}]
    assert fake_host.ip_forward == "1"
    [server] = fake_host.processes("python3")
    assert real["metadata_pid"] == server
    hosts_file = os.path.join(paths["networks_path"], "nova-br100.conf")
    line = "%s,vm1.novalocal,10.1.0.2\n" % real["fixed_ips"][0]["mac"]
    assert open(hosts_file).read() == line and os.stat(hosts_file).st_mode & 0o777 == 0o644
    commands = len(fake_host.commands)
    for check_mode in (True, False):
        again = converge_with(check_mode=check_mode, instances=instances)
        assert again["changed"] is False and again["diff"] == {"before": {}, "after": {}}
        assert again["fixed_ips"] == real["fixed_ips"] and again["dnsmasq_pid"] == real["dnsmasq_pid"]
    assert not [c for c in fake_host.commands[commands:] if c[:2] in (["ip", "-batch"], ["iptables-restore", "-w"])]
    assert again["metadata_pid"] == real["metadata_pid"]


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
    assert error.value.details["rolled_back"] == ["dnsmasq", "iptables", "metadata address", "ip_forward", "bridge"]
    assert error.value.details["rollback_failures"] == []
    assert set(fake_host.links) == {"eth0"} and fake_host.lo == []
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
    assert fake_host.tables["nat"] == {"PREROUTING": [], "INPUT": [], "OUTPUT": [], "POSTROUTING": []}
    assert fake_host.lo == [] and fake_host.processes("python3") == []
    assert os.listdir(paths["networks_path"]) == []
    assert FactsStore(paths["facts_path"]).load()["networks"] == {}
    assert converge_with(state="absent", remove_bridge=True)["changed"] is False


def test_a_networks_path_dnsmasq_cannot_reach_is_refused(converge_with, fake_host, instances, open_dir):
    os.chmod(open_dir, 0o700)
    with pytest.raises(InvalidInput, match="is not searchable by others"):
        converge_with(instances=instances)
    assert set(fake_host.links) == {"eth0"}


def test_network_is_required_to_set_up_or_take_down(converge_with, instances):
    for params in ({"instances": instances}, {"state": "absent"}):
        with pytest.raises(InvalidInput, match="network is required with state=present or dns and to take a network"):
            converge_with(network=None, **params)
    with pytest.raises(InvalidInput, match="network is required with state=present or dns"):
        converge_with(network=None, state="dns", dns_names={})


class FakeModule:
    """What ensure_state uses of an AnsibleModule."""

    def __init__(self, params, fake_host):
        self.params = params
        self.check_mode = False
        self.run_command = fake_host.run_command

    def get_bin_path(self, name, required=False):
        return "/usr/sbin/" + name


@pytest.mark.parametrize("changes, message", [
    ({"public_interface": "eth 0"}, "public_interface 'eth 0': expected a network device name"),
    ({"routing_source_ip": "192.168.96"}, "routing_source_ip '192.168.96': expected an IPv4 address"),
    ({"dmz_cidr": ["10.9.0.1/24"]}, r"dmz_cidr\[0\] '10.9.0.1/24' has host bits set"),
    ({"force_snat_range": ["bad"]}, r"force_snat_range\[0\] 'bad': expected an IPv4 network"),
    ({"metadata_port": 70000}, "metadata_port 70000: expected a whole number from 1 to 65535"),
    ({"dns_names": {"10.1.0.9": "vm_9"}}, r"dns_names\[10.1.0.9\] 'vm_9': expected a DNS label"),
    ({"floating_ips": [{"address": "192.168.96.300", "pool": "nova", "project_id": "p",
                        "instance_uuid": "90844617-d71f-474f-9cdf-000000000001"}]},
     r"allocate\[0\].address '192.168.96.300'"),
    ({"instances": [{"instance_uuid": "90844617-d71f-474f-9cdf-000000000001", "hostname": "vm1",
                     "mac": "01:00:5e:00:00:01"}]}, r"instances\[0\]\.mac .*expected a unicast MAC address"),
    ({"network": {"cidr": "10.1.0.0/33"}}, "network.cidr '10.1.0.0/33'"),
    ({"dhcp_server": "10.1.0"}, "dhcp_server '10.1.0': expected an IPv4 address"),
    ({"dhcp_lease_time": 60}, "dhcp_lease_time 60: expected a whole number of at least 120"),
    ({"networks_path": "relative"}, "networks_path 'relative': expected an absolute path"),
    ({"dnsmasq_config_file": "a\nb"}, "dnsmasq_config_file .*expected text on one line"),
])
def test_a_bad_value_fails_before_any_command_runs(fake_host, paths, network_params, changes, message):
    params = dict(DEFAULTS, network=network_params, **paths)
    params.update(changes)
    if "cidr" in changes.get("network", {}):
        params["network"] = dict(network_params, **changes["network"])
    with pytest.raises(InvalidInput, match=message):
        ensure_state(FakeModule(params, fake_host))
    assert fake_host.commands == [] and not os.path.exists(paths["facts_path"])


def test_an_os_error_writing_the_hosts_file_undoes_bridge_and_chains(
        converge_with, fake_host, paths, instances, monkeypatch):
    hosts_file = os.path.join(paths["networks_path"], "nova-br100.conf")

    def full_disk(path, content, mode=0o644):
        raise OSError(28, "No space left on device", path)
    monkeypatch.setattr(dnsmasq, "write_atomic", full_disk)
    with pytest.raises(NovaliteError) as error:
        converge_with(instances=instances)
    assert error.value.msg == "dnsmasq: No space left on device: %s" % hosts_file
    assert error.value.details["failed_step"] == "dnsmasq"
    assert error.value.details["rolled_back"] == ["dnsmasq", "iptables", "metadata address", "ip_forward", "bridge"]
    assert error.value.details["rollback_failures"] == []
    assert "OSError" in error.value.details["exception"]  # the traceback, for -vvv
    assert set(fake_host.links) == {"eth0"} and fake_host.links["eth0"]["master"] is None
    assert fake_host.links["eth0"]["addresses"] == [{"local": "192.168.96.80", "prefixlen": 24}]
    assert fake_host.iptables == {"INPUT": [], "FORWARD": [], "OUTPUT": []} and fake_host.ip_forward == "0"
    assert not os.path.exists(paths["facts_path"]) and not os.path.exists(hosts_file)
    assert not [c for c in fake_host.commands if c[0].endswith("dnsmasq")]


def test_a_facts_file_that_cannot_be_written_undoes_every_step(converge_with, fake_host, paths, instances,
                                                               monkeypatch):
    def read_only(path, content, mode=0o644):
        raise OSError(30, "Read-only file system", path)
    monkeypatch.setattr(host_plan, "write_atomic", read_only)
    with pytest.raises(NovaliteError) as error:
        converge_with(instances=instances)
    assert error.value.details["failed_step"] == "facts"
    assert error.value.details["rolled_back"] == list(reversed(APPLIED))
    assert fake_host.processes("python3") == [] and fake_host.processes("dnsmasq") == []
    assert set(fake_host.links) == {"eth0"} and fake_host.iptables["FORWARD"] == []
    assert not os.path.exists(os.path.join(paths["networks_path"], "nova-br100.conf"))
    assert (fake_host.signals[-1][1]) == signal.SIGTERM  # the dnsmasq it started is stopped again


@pytest.mark.parametrize("network", [
    None,  # left out
    {"cidr": "10.1.0.0/33"},  # broken since
    {"bridge": None, "label": "pri,vate"},  # incomplete
    {"bridge": "br200", "cidr": "10.7.0.0/16"},  # valid, but not what the host recorded
], ids=["left-out", "invalid", "incomplete", "changed"])
def test_release_works_from_the_hosts_records_whatever_the_network_option_says(
        converge_with, fake_host, instances, paths, network_params, uuid_of, network):
    first = converge_with(instances=instances)
    given = None if network is None else dict(network_params, **network)
    released = converge_with(network=given, state="absent", instances=[{"instance_uuid": uuid_of(1)}])
    assert released["changed"] and released["released"] == ["10.1.0.2"]
    assert released["dhcp_server"] == "10.1.0.3" and released["dnsmasq_pid"] == first["dnsmasq_pid"]
    assert open(os.path.join(paths["networks_path"], "nova-br100.conf")).read() == ""
    assert fake_host.signals[-1] == (first["dnsmasq_pid"], signal.SIGHUP)
    facts = FactsStore(paths["facts_path"]).load()
    assert facts["fixed_ips"] == {} and facts["networks"][network_params["uuid"]]["released_vif_ids"] == [
        first["fixed_ips"][0]["vif_id"]]
    assert released["diff"]["after"]["facts"]["fixed_ips"] == {}


def test_one_release_spans_the_networks_the_instances_were_on(converge_with, fake_host, paths, network_params,
                                                              instances, uuid_of):
    other = dict(network_params, uuid="5f1c8f52-0d55-4a39-9b7e-0d6f3c1a2b3c", label="other", cidr="10.2.0.0/16",
                 bridge="br200", bridge_interface=None)
    converge_with(instances=instances)
    converge_with(network=other, instances=[{"instance_uuid": uuid_of(2), "hostname": "vm2"}])
    released = converge_with(network=None, state="absent",
                             instances=[{"instance_uuid": uuid_of(2)}, {"instance_uuid": uuid_of(1)}])
    assert released["released"] == ["10.1.0.2", "10.2.0.2"] and released["dhcp_server"] == "10.1.0.3"
    assert set(released["diff"]["after"]) == {"facts", "dnsmasq br100", "dnsmasq br200"}
    for bridge in ("br100", "br200"):
        assert open(os.path.join(paths["networks_path"], "nova-%s.conf" % bridge)).read() == ""
    assert FactsStore(paths["facts_path"]).load()["fixed_ips"] == {}


def test_releasing_what_the_host_does_not_hold_changes_nothing(converge_with, fake_host, uuid_of):
    released = converge_with(network=None, state="absent", instances=[{"instance_uuid": uuid_of(9)}])
    assert released["changed"] is False and released["released"] == [] and released["dhcp_server"] is None
    assert fake_host.commands == []


# --- the facts sections ----------------------------------------------------------------------

WRITERS, PER_WRITER = 6, 15


def commit_locally(store_path, params, writer):
    """One nova_network run: allocate from this host's facts and record, under the facts lock."""
    network = NetworkRecord.from_params(params)
    with FactsStore(store_path, lock_timeout=60).transaction() as transaction:
        document = transaction.document
        usage = NetworkUsage(network).add_facts("compute1", document)
        requests = [AllocationRequest("00000000-0000-4000-8000-%06d%06d" % (writer, n), "vm%d-%d" % (writer, n),
                                      "compute1") for n in range(PER_WRITER)]
        result = allocate(network, usage, requests, dhcp_hosts=["compute1"])
        service.record_network(document, network, "compute1", result.dhcp_servers["compute1"])
        service.record_fixed_ips(document, result.fixed_ips)


def test_facts_round_trip_through_the_store(tmp_path, network, make_request, rng):
    store = FactsStore(str(tmp_path / "novalite.fact"))
    result = allocate(network, NetworkUsage(network), [make_request(1), make_request(2)], rng=rng)
    with store.transaction() as transaction:
        service.record_network(transaction.document, network, "compute1", result.dhcp_servers["compute1"])
        service.record_fixed_ips(transaction.document, result.fixed_ips)
    on_disk = json.loads((tmp_path / "novalite.fact").read_text())
    assert on_disk["networks"][network.uuid]["dhcp_server"] == "10.1.0.3"
    assert on_disk["networks"][network.uuid]["host"] == "compute1"
    assert on_disk["fixed_ips"]["10.1.0.2"] == result.fixed_ips[0]
    usage = NetworkUsage(network).add_facts("compute1", store.load())
    assert set(usage.fixed_ips) == {"10.1.0.2", "10.1.0.4"} and usage.dhcp_servers == {"compute1": "10.1.0.3"}


def test_concurrent_writers_never_hand_out_an_address_twice(tmp_path, network_params):
    path = str(tmp_path / "novalite.fact")
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=commit_locally, args=(path, network_params, w)) for w in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    fixed_ips = json.loads(open(path).read())["fixed_ips"]
    assert len(fixed_ips) == WRITERS * PER_WRITER
    assert len({r["mac"] for r in fixed_ips.values()}) == WRITERS * PER_WRITER
    dhcp_server = json.loads(open(path).read())["networks"][network_params["uuid"]]["dhcp_server"]
    assert dhcp_server == "10.1.0.3" and dhcp_server not in fixed_ips


def test_release_keeps_the_newest_released_vif_ids(network, make_request, rng):
    document = {"networks": {}, "fixed_ips": {}, "instances": {}}
    result = allocate(network, NetworkUsage(network), [make_request(n) for n in range(3)], rng=rng)
    service.record_network(document, network, "compute1", "10.1.0.3")
    service.record_fixed_ips(document, result.fixed_ips)
    document["networks"][network.uuid]["released_vif_ids"] = ["old"] * service.RELEASED_VIF_IDS_KEPT
    released = service.release_fixed_ips(document, [make_request(0).instance_uuid])
    kept = document["networks"][network.uuid]["released_vif_ids"]
    assert len(kept) == service.RELEASED_VIF_IDS_KEPT and kept[-1] == released[0]["vif_id"]
    assert service.release_fixed_ips(document, [make_request(0).instance_uuid]) == []
    assert [r["address"] for r in service.fixed_ips_of(document, network.uuid)] == ["10.1.0.4", "10.1.0.5"]


# --- network_info ----------------------------------------------------------------------------

def test_novas_vif_shape(network):
    fixed_ip = {"instance_uuid": "90844617-d71f-474f-9cdf-35e244c846b0", "address": "10.1.0.2",
                "mac": "fa:16:3e:5a:f4:23", "vif_id": "99a3c937-1a0f-48f7-8015-166d7644e9a0"}
    assert network_info(network, "10.1.0.3", [fixed_ip]) == {"90844617-d71f-474f-9cdf-35e244c846b0": [{
        "id": "99a3c937-1a0f-48f7-8015-166d7644e9a0",
        "address": "fa:16:3e:5a:f4:23",
        "meta": {},
        "network": {
            "id": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "bridge": "br100",
            "meta": {"tenant_id": None, "multi_host": True, "should_create_bridge": True, "bridge_interface": "eth0",
                     "dhcp_domain": "novalocal"},
            "subnets": [
                {"cidr": "10.1.0.0/16", "version": 4, "routes": [], "meta": {"dhcp_server": "10.1.0.3"},
                 "ips": [{"address": "10.1.0.2", "type": "fixed", "version": 4, "meta": {}, "floating_ips": []}],
                 "gateway": {"address": "10.1.0.1", "type": "gateway", "version": 4, "meta": {}},
                 "dns": [{"address": "8.8.4.4", "type": "dns", "version": 4, "meta": {}}]},
                {"cidr": None, "version": None, "ips": [], "dns": [], "routes": [],
                 "meta": {"dhcp_server": "10.1.0.3"},
                 "gateway": {"address": None, "type": "gateway", "version": None, "meta": {}}}]}}]}


# --- egress, names, floating IPs and the metadata server in the same call ------------------------

def test_egress_is_recorded_and_a_release_keeps_the_rules_it_does_not_name(converge_with, fake_host, paths,
                                                                           instances, uuid_of, network_params):
    converge_with(instances=instances, dmz_cidr=["10.128.0.0/24"], force_snat_range=["203.0.113.0/24"])
    record = FactsStore(paths["facts_path"]).load()["networks"][network_params["uuid"]]
    assert (record["routing_source_ip"], record["public_interface"], record["dmz_cidr"]) == (
        "192.168.96.80", "br100", ["10.128.0.0/24"])
    rules = dict(fake_host.tables["nat"])
    released = converge_with(network=None, state="absent", instances=[{"instance_uuid": uuid_of(1)}])
    assert released["changed"] and fake_host.tables["nat"] == rules  # nothing in the release call says them
    moved = converge_with(instances=[], routing_source_ip="192.168.96.99", force_snat_range=["203.0.113.0/24"])
    assert moved["changed"] and moved["diff"]["after"]["iptables"]["nat"]["nova-network-snat"]["rules"][-1] == (
        "-s 10.1.0.0/16 -d 203.0.113.0/24 -o br100 -j SNAT --to-source 192.168.96.99")


def test_a_public_interface_that_does_not_exist_is_refused_before_any_change(converge_with, fake_host, paths, instances):
    with pytest.raises(InvalidInput, match="public_interface eth9 does not exist on this host"):
        converge_with(instances=instances, public_interface="eth9")
    assert set(fake_host.links) == {"eth0"} and not os.path.exists(paths["facts_path"])
    assert not [c for c in fake_host.commands if c[:2] in (["ip", "-batch"], ["iptables-restore", "-w"])]


def test_every_name_of_the_network_and_the_update_dns_state(converge_with, fake_host, paths, instances, uuid_of):
    names = {"10.1.0.4": "other1", "10.1.0.2": "ignored-own-name"}
    first = converge_with(instances=instances, dns_names=names)
    hosts = os.path.join(paths["networks_path"], "nova-br100.hosts")
    assert open(hosts).read() == "10.1.0.2\tvm1.novalocal\n10.1.0.4\tother1.novalocal\n"
    assert os.stat(hosts).st_mode & 0o777 == 0o644
    told = converge_with(state="dns", dns_names={"10.1.0.6": "other2"})
    assert told["changed"] and set(told["diff"]["after"]) == {"facts", "dnsmasq"}
    assert open(hosts).read() == "10.1.0.2\tvm1.novalocal\n10.1.0.6\tother2.novalocal\n"
    assert fake_host.signals[-1] == (first["dnsmasq_pid"], signal.SIGHUP)
    assert converge_with(state="dns", dns_names={"10.1.0.6": "other2"})["changed"] is False
    kept = converge_with(instances=instances)  # no dns_names: the recorded ones stay
    assert kept["changed"] is False
    with pytest.raises(InvalidInput, match="state=dns needs dns_names"):
        converge_with(state="dns")
    other = {"uuid": "5f1c8f52-0d55-4a39-9b7e-0d6f3c1a2b3c", "label": "x", "cidr": "10.9.0.0/24", "bridge": "br9"}
    assert converge_with(state="dns", network=other, dns_names={})["changed"] is False  # not served here


def test_auto_assigned_floating_ips_are_bound_on_create_and_released_with_the_instance(
        converge_with, fake_host, instances, paths, uuid_of):
    row = {"address": "192.168.96.129", "pool": "nova", "project_id": "p1", "instance_uuid": uuid_of(1),
           "interface": None, "auto_assigned": True}
    created = converge_with(instances=instances, floating_ips=[row])
    assert created["floating_ips"][0]["fixed_ip"] == "10.1.0.2"
    ips = created["network_info"][uuid_of(1)][0]["network"]["subnets"][0]["ips"]
    assert ips[0]["floating_ips"] == [{"address": "192.168.96.129", "type": "floating", "version": 4, "meta": {}}]
    assert {"local": "192.168.96.129", "prefixlen": 32} in fake_host.links["br100"]["addresses"]
    assert fake_host.arps == ["192.168.96.129"]
    assert "-d 192.168.96.129/32 -j DNAT --to-destination 10.1.0.2" in fake_host.tables["nat"]["nova-network-OUTPUT"]
    assert converge_with(instances=instances, floating_ips=[row])["changed"] is False
    released = converge_with(network=None, state="absent", instances=[{"instance_uuid": uuid_of(1)}])
    assert released["released_floating_ips"] == ["192.168.96.129"] and fake_host.flushed == ["10.1.0.2"]
    facts = FactsStore(paths["facts_path"]).load()
    assert facts["floating_ips"] == {} and facts["floating_associations"] == {}
    assert {"local": "192.168.96.129", "prefixlen": 32} not in fake_host.links["br100"]["addresses"]
    with pytest.raises(InvalidInput, match="floating_ips.0.: instance .* is not one of instances"):
        converge_with(instances=instances, floating_ips=[dict(row, instance_uuid=uuid_of(5))])


def test_a_dead_metadata_server_is_started_again(converge_with, fake_host, instances):
    first = converge_with(instances=instances)
    fake_host.kill_dnsmasq(first["metadata_pid"])  # any fake process
    again = converge_with(instances=instances)
    assert again["changed"] and again["metadata_pid"] != first["metadata_pid"]
    assert again["diff"]["before"]["metadata"]["running"] is False and again["dnsmasq_pid"] == first["dnsmasq_pid"]
