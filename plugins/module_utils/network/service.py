# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova_network on one compute host: Nova's ``allocate_fixed_ip`` + ``_setup_network_on_host``.

``FlatDHCPManager`` (``nova/network/manager.py``) committed the fixed IP, then set up the bridge,
its DHCP-server address, the FORWARD and NAT rules (``init_host``), the metadata service and
dnsmasq. Here all options are validated first (host_request.py); then, under the facts lock,
the allocations are re-checked against this host's facts, every change is planned once (bridge,
ip_forward, the metadata address, iptables, floating addresses, dnsmasq, the metadata server)
and reported (check mode) or applied through common/rollback, the facts written last.

The rules are always those of the host's whole recorded state (network/nat.py): every run
writes them all, so a change of one network, one instance or one floating IP leaves the others'
rules as they are, and what is no longer recorded loses its rules.

A release works from what the host recorded: each released fixed IP names its network, whose
record in the facts gives the bridge and domain of the hosts files to rewrite. The ``network``
option is not needed for it, so a definition changed or broken since never blocks a delete.
The instances' floating IPs go with them, as Nova's ``deallocate_for_instance`` did: the
auto-assigned ones are released, the others disassociated and kept.
"""

from __future__ import annotations

import socket
import sys

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network import egress, floating, linux_net
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NetworkRecord
from ansible_collections.novalite.compute.plugins.module_utils.network.dnsmasq import (
    DnsmasqFiles, DnsmasqProcess, DnsmasqStep, dns_hosts_text, dnsmasq_arguments, hosts_file_text)
from ansible_collections.novalite.compute.plugins.module_utils.network.host_plan import (
    HostPlan, converge_host, host_steps)
from ansible_collections.novalite.compute.plugins.module_utils.network.host_request import (
    NOVA_NETWORK_SPEC, HostNetworkRequest, HostTools)
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import NetworkUsage, allocate
from ansible_collections.novalite.compute.plugins.module_utils.network.metadata_service import (
    MetadataFiles, MetadataProcess, MetadataStep, server_arguments, server_source)
from ansible_collections.novalite.compute.plugins.module_utils.network.process import KEEP_RUNNING
from ansible_collections.novalite.compute.plugins.module_utils.network.records import (
    dns_names_of, fixed_ips_of, network_info, record_dns_names, record_fixed_ips, record_network, release_fixed_ips)

__all__ = ["NOVA_NETWORK_SPEC", "HostNetworkRequest", "HostTools", "converge_network", "ensure_state"]


def ensure_state(module):
    validate.require_netaddr()
    request = HostNetworkRequest(module.params, socket.gethostname())
    tools = HostTools(module.run_command, lambda name: module.get_bin_path(name, required=True),
                      find_optional=module.get_bin_path, python=sys.executable)
    return converge_network(request, tools, module.check_mode)


def converge_network(request, tools, check_mode):
    if request.state != "absent":
        planner = plan_present if request.state == "present" else plan_dns
    else:
        planner = plan_release if request.releasing else plan_teardown
    result, plan = converge_host(request.facts_path, lambda document: planner(request, document, tools), check_mode)
    result["dnsmasq_pid"] = plan.dnsmasq.pid if plan.dnsmasq else None
    result["metadata_pid"] = plan.metadata.pid if plan.metadata else None
    return result


class NetworkPlan(HostPlan):
    def __init__(self, steps, outputs, network_ids, dnsmasq=None, metadata=None):
        super().__init__(steps, outputs, lambda document: _facts_view(document, network_ids))
        self.dnsmasq = dnsmasq
        self.metadata = metadata


def plan_present(request, document, tools):
    network = _checked_network(request, document)
    usage = NetworkUsage(network).add_facts(request.host, document)
    allocation = allocate(network, usage, request.instances or [], dhcp_hosts=[request.host],
                          requested_dhcp={request.host: request.dhcp_server})
    dhcp_server = allocation.dhcp_servers[request.host]
    others = [r for uuid, r in document["networks"].items() if uuid != network.uuid]
    settings = egress.resolve(request.egress, tools.run_command,
                              egress.enslaved_interfaces(others + [network.to_facts()]))
    record_network(document, network, request.host, dhcp_server, settings)
    record_fixed_ips(document, allocation.fixed_ips)
    record_dns_names(document, network.uuid, request.dns_names)
    bound, unbound = floating.apply_change(document, request.floating, tools.run_command)
    current = linux_net.probe_layout(tools.run_command, network)
    linux_net.check_usable(current, network)
    target = linux_net.present_target(current, linux_net.gateway_address(network, dhcp_server))
    dnsmasq = _dnsmasq_step(tools, request, document, network, dhcp_server)
    metadata = _metadata_step(tools, request, network, dhcp_server, settings["metadata_port"])
    steps = [linux_net.BridgeStep(tools.run_command, network, current, target),
             linux_net.ForwardingStep(tools.run_command, tools.read_file)]
    steps += _host_steps(tools, request, document, bound, unbound) + [dnsmasq, metadata]
    by_fixed = floating.floating_by_fixed_ip(document)
    wanted = {r.instance_uuid for r in request.instances or []}
    outputs = {"dhcp_server": dhcp_server, "fixed_ips": allocation.fixed_ips, "released": [],
               "network_info": network_info(network, dhcp_server, allocation.fixed_ips, by_fixed),
               "floating_ips": [a for a in document.get(floating.ASSOCIATIONS, {}).values()
                                if a["instance_uuid"] in wanted],
               "released_floating_ips": []}
    return NetworkPlan(steps, outputs, [network.uuid], dnsmasq, metadata)


def plan_release(request, document, tools):
    """Nova's deallocate_for_instance: fixed IPs and floating IPs go, hosts files rewritten, dnsmasq HUPed."""
    released = release_fixed_ips(document, request.instances)
    unbound, released_floating = floating.release_instances(document, request.instances)
    if request.network_id:
        record_dns_names(document, request.network_id, request.dns_names)
    network_ids = list(dict.fromkeys([r["network_id"] for r in released]
                                     + ([request.network_id] if request.dns_names is not None else [])))
    recorded = [document["networks"][n] for n in network_ids if n in document["networks"]]
    steps = _host_steps(tools, request, document, [], unbound) if released or unbound else []
    dnsmasq_steps = []
    for record in recorded:
        network = NetworkRecord.from_facts(record)
        name = "dnsmasq" if len(recorded) == 1 else "dnsmasq %s" % network.bridge
        dnsmasq_steps.append(_dnsmasq_step(tools, request, document, network, None, name=name))
    outputs = {"dhcp_server": recorded[0]["dhcp_server"] if recorded else None, "fixed_ips": [],
               "network_info": {}, "released": [r["address"] for r in released], "floating_ips": [],
               "released_floating_ips": released_floating}
    return NetworkPlan(steps + dnsmasq_steps, outputs, network_ids, dnsmasq_steps[0] if dnsmasq_steps else None)


def plan_dns(request, document, tools):
    """Nova's update_dns: only the network's addn-hosts file, from ``dns_names``, and a SIGHUP."""
    if request.dns_names is None:
        raise InvalidInput("state=dns needs dns_names (every instance of the network: {address: hostname})")
    recorded = document["networks"].get(request.network.uuid)
    outputs = {"dhcp_server": (recorded or {}).get("dhcp_server"), "fixed_ips": [], "network_info": {},
               "released": [], "floating_ips": [], "released_floating_ips": []}
    if recorded is None:  # the host does not serve the network: nothing to tell it
        return NetworkPlan([], outputs, [request.network.uuid])
    record_dns_names(document, request.network.uuid, request.dns_names)
    dnsmasq = _dnsmasq_step(tools, request, document, NetworkRecord.from_facts(recorded), None)
    return NetworkPlan([dnsmasq], outputs, [request.network.uuid], dnsmasq)


def plan_teardown(request, document, tools):
    """Stop dnsmasq and the metadata server, drop their files and the rules, take the DHCP-server address off."""
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
    metadata = MetadataStep(tools.run_command, _metadata_process(tools, request, network), None)
    steps = [dnsmasq, metadata] + _host_steps(tools, request, document)
    steps.append(linux_net.BridgeStep(tools.run_command, network, current,
                                      linux_net.teardown_target(current, address, request.remove_bridge)))
    outputs = {"dhcp_server": None, "fixed_ips": [], "network_info": {}, "released": [], "floating_ips": [],
               "released_floating_ips": []}
    return NetworkPlan(steps, outputs, [network.uuid], dnsmasq, metadata)


def _checked_network(request, document):
    recorded = document["networks"].get(request.network.uuid)
    if recorded:
        request.network.check_same_layout(recorded, "this host")
    return request.network


# --- the daemons of one network ------------------------------------------------------------------

def _host_steps(tools, request, document, bound=(), unbound=()):
    return host_steps(tools.run_command, tools.find_optional, request.locks_path, document, bound, unbound)


def _dnsmasq_process(tools, networks_path, network):
    return DnsmasqProcess(DnsmasqFiles(networks_path, network.bridge), tools.proc_root, tools.send_signal)


def _dnsmasq_step(tools, request, document, network, dhcp_server, name="dnsmasq"):
    """dnsmasq with both hosts files; ``dhcp_server`` None keeps a running one as it is and starts none."""
    process = _dnsmasq_process(tools, request.networks_path, network)
    hosts = hosts_file_text(network, fixed_ips_of(document, network.uuid))
    names = dns_hosts_text(network, dns_names_of(document, network.uuid))
    if dhcp_server is None:
        return DnsmasqStep(tools.run_command, process, None, hosts, KEEP_RUNNING, start=False, name=name,
                           dns_text=names)
    arguments = dnsmasq_arguments(network, dhcp_server, process.files, request.dnsmasq_config_file,
                                  request.dhcp_lease_time)
    return DnsmasqStep(tools.run_command, process, tools.find_binary("dnsmasq"), hosts, arguments, name=name,
                       dns_text=names)


def _metadata_process(tools, request, network):
    return MetadataProcess(MetadataFiles(request.networks_path, network.bridge), tools.proc_root, tools.send_signal,
                           python=tools.python or sys.executable)


def _metadata_step(tools, request, network, dhcp_server, port):
    process = _metadata_process(tools, request, network)
    arguments = server_arguments(process.files, network.uuid, dhcp_server, port, request.facts_path,
                                 request.instances_path)
    return MetadataStep(tools.run_command, process, arguments, server_source())


def _facts_view(document, network_ids):
    view = {"networks": {n: document["networks"][n] for n in network_ids if n in document["networks"]},
            "fixed_ips": {a: r for a, r in document["fixed_ips"].items() if r.get("network_id") in network_ids}}
    for section in (floating.ROWS, floating.ASSOCIATIONS):
        view[section] = dict(document.get(section) or {})
    return view
