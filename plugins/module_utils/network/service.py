# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova_network on one compute host: Nova's ``allocate_fixed_ip`` + ``_setup_network_on_host``.

``FlatDHCPManager`` (``nova/network/manager.py``) committed the fixed IP, then set up the bridge,
its DHCP-server address, the FORWARD rules and dnsmasq. Here all options are validated first;
then, under the facts lock, the allocations are re-checked against this host's facts, every
change is planned once (bridge, ip_forward, iptables chains, dnsmasq) and reported (check mode)
or applied through common/rollback, the facts written last.

A release works from what the host recorded: each released fixed IP names its network, whose
record in the facts gives the bridge and domain of the hosts file to rewrite. The ``network``
option is not needed for it, so a definition changed or broken since never blocks a delete.
"""

from __future__ import annotations

import os
import socket

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore, dump_document
from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text, write_atomic
from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_FACTS_PATH, DEFAULT_LOCKS_PATH, DEFAULT_NETWORKS_PATH)
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import apply_steps, undo_on_failure
from ansible_collections.novalite.compute.plugins.module_utils.network import linux_net
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NETWORK, NetworkRecord
from ansible_collections.novalite.compute.plugins.module_utils.network.dnsmasq import (
    DEFAULT_LEASE_SECONDS, KEEP_RUNNING, MIN_LEASE_SECONDS, DnsmasqFiles, DnsmasqProcess, DnsmasqStep,
    dnsmasq_arguments, hosts_file_text)
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import (
    AllocationRequest, NetworkUsage, address_key, allocate)
from ansible_collections.novalite.compute.plugins.module_utils.network.iptables import IptablesStep, bridge_chains

INSTANCE_OPTIONS = {
    "instance_uuid": {"type": "str", "required": True},
    "instance_name": {"type": "str"},
    "hostname": {"type": "str"},
    "address": {"type": "str"},
    "mac": {"type": "str"},
    "vif_id": {"type": "str"},
}
NOVA_NETWORK_SPEC = {
    "network": NETWORK,
    "instances": {"type": "list", "elements": "dict", "options": INSTANCE_OPTIONS},
    "dhcp_server": {"type": "str"},
    "host": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "remove_bridge": {"type": "bool", "default": False},
    "networks_path": {"type": "path", "default": DEFAULT_NETWORKS_PATH},
    "facts_path": {"type": "path", "default": DEFAULT_FACTS_PATH},
    "locks_path": {"type": "path", "default": DEFAULT_LOCKS_PATH},
    "dnsmasq_config_file": {"type": "str", "default": ""},
    "dhcp_lease_time": {"type": "int", "default": DEFAULT_LEASE_SECONDS},
}
# A released VIF id stays listed so the controller's ledger can drop a reservation the host
# committed and released between two allocations; the newest ones are enough for that.
RELEASED_VIF_IDS_KEPT = 1000
IPTABLES_LOCK = "nova-iptables"  # Nova's external lock name, in locks_path


class HostNetworkRequest:
    """nova_network's options, validated in full before anything on the host is looked at."""

    def __init__(self, params, default_host):
        self.state = params["state"]
        self.host = validate.one_line(params.get("host") or default_host, "host")
        self.releasing = self.state == "absent" and params.get("instances") is not None
        self.network = None if self.releasing else self._network(params.get("network"))
        self.instances = self._instances(params.get("instances"))
        self.dhcp_server = None if self.releasing else self._dhcp_server(params.get("dhcp_server"))
        self.remove_bridge = bool(params.get("remove_bridge"))
        if self.remove_bridge and (self.state != "absent" or self.instances is not None):
            raise InvalidInput("remove_bridge applies only to state=absent without instances "
                               "(taking the network down on this host)")
        self.networks_path = validate.absolute_path(params["networks_path"], "networks_path")
        self.facts_path = validate.absolute_path(params["facts_path"], "facts_path")
        self.locks_path = validate.absolute_path(params["locks_path"], "locks_path")
        self.dnsmasq_config_file = validate.one_line(params.get("dnsmasq_config_file") or "", "dnsmasq_config_file")
        self.dhcp_lease_time = validate.whole_number(params["dhcp_lease_time"], "dhcp_lease_time", MIN_LEASE_SECONDS)

    def _network(self, params):
        if params is None:
            raise InvalidInput("network is required with state=present and to take a network down "
                               "(state=absent without instances)")
        return NetworkRecord.from_params(params)

    def _instances(self, entries):
        """AllocationRequests; for a release only the instance uuids (None: no list given)."""
        if entries is None:
            return None
        if self.releasing:
            return [validate.uuid(e.get("instance_uuid"), "instances[%d].instance_uuid" % i)
                    for i, e in enumerate(entries)]
        return [AllocationRequest.from_params(e, self.host, "instances[%d]" % i) for i, e in enumerate(entries)]

    def _dhcp_server(self, value):
        if not value:
            return None
        address = str(validate.ipv4_address(value, "dhcp_server"))
        network = self.network
        if not network.multi_host and address != network.gateway:
            raise InvalidInput("dhcp_server %s: %s is not multi_host, so its DHCP server is the gateway %s"
                               % (address, network.describe(), network.gateway), value=address)
        return address


class HostTools:
    """How the service reaches the host; unit tests hand in fakes."""

    def __init__(self, run_command, find_binary, proc_root="/proc", send_signal=os.kill, read_file=read_text):
        self.run_command = run_command
        self.find_binary = find_binary
        self.proc_root = proc_root
        self.send_signal = send_signal
        self.read_file = read_file


class Plan:
    """The steps (``apply_steps`` protocol), the module's results, and the networks the facts diff shows."""

    def __init__(self, steps, outputs, network_ids, dnsmasq=None):
        self.steps = steps
        self.outputs = outputs
        self.network_ids = network_ids
        self.dnsmasq = dnsmasq


def ensure_state(module):
    validate.require_netaddr()
    request = HostNetworkRequest(module.params, socket.gethostname())
    tools = HostTools(module.run_command, lambda name: module.get_bin_path(name, required=True))
    return converge(request, tools, module.check_mode)


def converge(request, tools, check_mode):
    planner = plan_present if request.state == "present" else plan_release if request.releasing else plan_teardown
    store = FactsStore(request.facts_path)
    with store.transaction(write=False) as transaction:  # saved below, as the last step of the apply
        plan = planner(request, transaction.document, tools)
        if not check_mode:
            with undo_on_failure() as rollback:
                apply_steps(rollback, plan.steps)
                if transaction.changed:
                    with rollback.step("facts"):
                        write_atomic(store.path, dump_document(transaction.document))
    changed_steps = [step for step in plan.steps if step.changed]
    result = dict(plan.outputs, changed=transaction.changed or bool(changed_steps),
                  diff=_diff(transaction, plan.network_ids, changed_steps))
    result["dnsmasq_pid"] = plan.dnsmasq.pid if plan.dnsmasq else None
    return result


def plan_present(request, document, tools):
    network = _checked_network(request, document)
    usage = NetworkUsage(network).add_facts(request.host, document)
    allocation = allocate(network, usage, request.instances or [], dhcp_hosts=[request.host],
                          requested_dhcp={request.host: request.dhcp_server})
    dhcp_server = allocation.dhcp_servers[request.host]
    record_network(document, network, request.host, dhcp_server)
    record_fixed_ips(document, allocation.fixed_ips)
    current = linux_net.probe_layout(tools.run_command, network)
    linux_net.check_usable(current, network)
    target = linux_net.present_target(current, linux_net.gateway_address(network, dhcp_server))
    process = _dnsmasq_process(tools, request.networks_path, network)
    dnsmasq = DnsmasqStep(tools.run_command, process, tools.find_binary("dnsmasq"),
                          hosts_file_text(network, fixed_ips_of(document, network.uuid)),
                          dnsmasq_arguments(network, dhcp_server, process.files, request.dnsmasq_config_file,
                                            request.dhcp_lease_time))
    steps = [linux_net.BridgeStep(tools.run_command, network, current, target),
             linux_net.ForwardingStep(tools.run_command, tools.read_file),
             IptablesStep(tools.run_command, bridge_chains(network.bridge), _iptables_lock(request)),
             dnsmasq]
    outputs = {"dhcp_server": dhcp_server, "fixed_ips": allocation.fixed_ips, "released": [],
               "network_info": network_info(network, dhcp_server, allocation.fixed_ips)}
    return Plan(steps, outputs, [network.uuid], dnsmasq)


def plan_release(request, document, tools):
    """Nova's deallocate_fixed_ip: each network's hosts file loses the lines and its running dnsmasq is HUPed."""
    released = release_fixed_ips(document, request.instances)
    network_ids = list(dict.fromkeys(record["network_id"] for record in released))
    recorded = [document["networks"][n] for n in network_ids if n in document["networks"]]
    steps = []
    for record in recorded:
        network = NetworkRecord.from_facts(record)
        name = "dnsmasq" if len(recorded) == 1 else "dnsmasq %s" % network.bridge
        steps.append(DnsmasqStep(tools.run_command, _dnsmasq_process(tools, request.networks_path, network), None,
                                 hosts_file_text(network, fixed_ips_of(document, network.uuid)),
                                 KEEP_RUNNING, start=False, name=name))
    outputs = {"dhcp_server": recorded[0]["dhcp_server"] if recorded else None, "fixed_ips": [],
               "network_info": {}, "released": [r["address"] for r in released]}
    return Plan(steps, outputs, network_ids, steps[0] if steps else None)


def plan_teardown(request, document, tools):
    """Stop dnsmasq, drop its files and chains, take the DHCP-server address off the bridge."""
    network = _checked_network(request, document)
    holding = fixed_ips_of(document, network.uuid)
    if holding:
        raise InvalidInput("%s still holds %d fixed IPs on this host (instances %s): release them first"
                           % (network.describe(), len(holding), ", ".join(r["instance_uuid"] for r in holding)))
    recorded = document["networks"].get(network.uuid) or {}
    dhcp_server = recorded.get("dhcp_server") or request.dhcp_server
    document["networks"].pop(network.uuid, None)
    address = linux_net.gateway_address(network, dhcp_server) if dhcp_server else None
    current = linux_net.probe_layout(tools.run_command, network)
    dnsmasq = DnsmasqStep(tools.run_command, _dnsmasq_process(tools, request.networks_path, network),
                          None, None, None)
    steps = [dnsmasq,
             IptablesStep(tools.run_command, bridge_chains(network.bridge, present=False), _iptables_lock(request)),
             linux_net.BridgeStep(tools.run_command, network, current,
                                  linux_net.teardown_target(current, address, request.remove_bridge))]
    outputs = {"dhcp_server": None, "fixed_ips": [], "network_info": {}, "released": []}
    return Plan(steps, outputs, [network.uuid], dnsmasq)


def _checked_network(request, document):
    recorded = document["networks"].get(request.network.uuid)
    if recorded:
        request.network.check_same_layout(recorded, "this host")
    return request.network


def _dnsmasq_process(tools, networks_path, network):
    return DnsmasqProcess(DnsmasqFiles(networks_path, network.bridge), tools.proc_root, tools.send_signal)


def _iptables_lock(request):
    return os.path.join(request.locks_path, IPTABLES_LOCK)


def _diff(transaction, network_ids, changed_steps):
    before, after = {}, {}
    facts_before, facts_after = (_facts_view(d, network_ids) for d in (transaction.before, transaction.document))
    if facts_before != facts_after:
        before["facts"], after["facts"] = facts_before, facts_after
    for step in changed_steps:
        before[step.name], after[step.name] = step.before, step.after
    return {"before": before, "after": after}


def _facts_view(document, network_ids):
    return {"networks": {n: document["networks"][n] for n in network_ids if n in document["networks"]},
            "fixed_ips": {a: r for a, r in document["fixed_ips"].items() if r.get("network_id") in network_ids}}


# --- the facts sections nova_network owns: networks and fixed_ips -----------------------------

def record_network(document, network, host, dhcp_server):
    previous = document["networks"].get(network.uuid) or {}
    record = network.to_facts()
    record.update(dhcp_server=dhcp_server, host=host, released_vif_ids=previous.get("released_vif_ids", []))
    document["networks"][network.uuid] = record


def record_fixed_ips(document, fixed_ips):
    for record in fixed_ips:
        document["fixed_ips"][record["address"]] = dict(record)


def fixed_ips_of(document, network_id):
    """This network's fixed ip records on the host, lowest address first."""
    records = [r for r in document["fixed_ips"].values() if r.get("network_id") == network_id]
    return sorted(records, key=lambda r: address_key(r["address"]))


def release_fixed_ips(document, instance_uuids):
    """Remove the instances' fixed ips in every network (Nova's deallocate_fixed_ip); the released records.

    Each network keeps the released VIF ids, lowest address first, for the controller's ledger.
    """
    wanted = set(instance_uuids)
    released = sorted((r for r in document["fixed_ips"].values() if r.get("instance_uuid") in wanted),
                      key=lambda r: address_key(r["address"]))
    for record in released:
        del document["fixed_ips"][record["address"]]
        network = document["networks"].get(record["network_id"])
        if network is not None:
            kept = network.get("released_vif_ids", []) + [record["vif_id"]]
            network["released_vif_ids"] = kept[-RELEASED_VIF_IDS_KEPT:]
    return released


# --- network_info ----------------------------------------------------------------------------

def network_info(network, dhcp_server, fixed_ips):
    """{instance uuid: [VIF]} in ``nova/network/model.py``'s shape (VIF > Network > Subnet > IP).

    One network, so one VIF per instance. FlatDHCP networks had an IPv4 subnet and an empty IPv6
    one (cidr_v6 None); both are kept so consumers see what Nova's did.
    """
    return {record["instance_uuid"]: [_vif(network, dhcp_server, record)] for record in fixed_ips}


def _vif(network, dhcp_server, fixed_ip):
    return {
        "id": fixed_ip["vif_id"],
        "address": fixed_ip["mac"],
        "meta": {},
        "network": {
            "id": network.uuid,
            "label": network.label,
            "bridge": network.bridge,
            "subnets": _subnets(network, dhcp_server, fixed_ip["address"]),
            "meta": {"tenant_id": network.project_id, "multi_host": network.multi_host,
                     "should_create_bridge": True, "bridge_interface": network.bridge_interface},
        },
    }


def _subnets(network, dhcp_server, address):
    fixed = dict(_ip(address, "fixed"), floating_ips=[])
    dns = [_ip(server, "dns") for server in (network.dns1, network.dns2) if server]
    ipv4 = {"cidr": network.cidr, "version": 4, "ips": [fixed], "gateway": _ip(network.gateway, "gateway"),
            "dns": dns, "routes": [], "meta": {"dhcp_server": dhcp_server}}
    ipv6 = {"cidr": None, "version": None, "ips": [], "gateway": _ip(None, "gateway"),
            "dns": [], "routes": [], "meta": {"dhcp_server": dhcp_server}}
    return [ipv4, ipv6]


def _ip(address, kind, version=4):
    return {"address": address, "type": kind, "version": version if address else None, "meta": {}}
