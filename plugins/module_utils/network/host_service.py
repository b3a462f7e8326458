# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova_network on one compute host: Nova's allocate_fixed_ip + _setup_network_on_host.

Under the facts lock it re-checks the allocations against this host's facts, plans every
change once (bridge, ip_forward, iptables chains, dnsmasq), then reports the plan (check mode)
or applies it, undoing the applied steps if one fails; the facts are saved only after success.
"""

from __future__ import annotations

import os
import socket

from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.network import bridge_layout, facts_sections
from ansible_collections.novalite.compute.plugins.module_utils.network.allocator import allocate
from ansible_collections.novalite.compute.plugins.module_utils.network.dnsmasq_config import (
    DnsmasqFiles, dnsmasq_arguments, hosts_file_text)
from ansible_collections.novalite.compute.plugins.module_utils.network.dnsmasq_process import DnsmasqProcess
from ansible_collections.novalite.compute.plugins.module_utils.network.dnsmasq_step import KEEP_RUNNING, DnsmasqStep
from ansible_collections.novalite.compute.plugins.module_utils.network.host_request import HostNetworkRequest
from ansible_collections.novalite.compute.plugins.module_utils.network.host_steps import (
    BridgeStep, ChainsStep, ForwardingStep)
from ansible_collections.novalite.compute.plugins.module_utils.network.ip_devices import probe_device
from ansible_collections.novalite.compute.plugins.module_utils.network.iptables_chains import bridge_chains
from ansible_collections.novalite.compute.plugins.module_utils.network.network_info import network_info
from ansible_collections.novalite.compute.plugins.module_utils.network.netaddr_import import require_netaddr
from ansible_collections.novalite.compute.plugins.module_utils.network.network_usage import NetworkUsage
from ansible_collections.novalite.compute.plugins.module_utils.network.rollback import apply_or_undo


class HostTools:
    """How the service reaches the host; unit tests hand in fakes."""

    def __init__(self, run_command, find_binary, proc_root="/proc", send_signal=os.kill, read_file=read_text):
        self.run_command = run_command
        self.find_binary = find_binary
        self.proc_root = proc_root
        self.send_signal = send_signal
        self.read_file = read_file


class Plan:
    def __init__(self, steps, outputs, dnsmasq=None):
        self.steps = steps
        self.outputs = outputs
        self.dnsmasq = dnsmasq


def ensure_state(module):
    require_netaddr()
    request = HostNetworkRequest(module.params, socket.gethostname())
    tools = HostTools(module.run_command, lambda name: module.get_bin_path(name, required=True))
    return converge(request, tools, module.check_mode)


def converge(request, tools, check_mode):
    planner = plan_present if request.state == "present" else plan_release if request.releasing else plan_teardown
    with FactsStore(request.facts_path).transaction(write=not check_mode) as transaction:
        plan = planner(request, transaction.document, tools)
        if not check_mode:
            apply_or_undo(plan.steps)
    changed_steps = [step for step in plan.steps if step.changed]
    result = dict(plan.outputs, changed=transaction.changed or bool(changed_steps),
                  diff=_diff(transaction, request.network.uuid, changed_steps))
    result["dnsmasq_pid"] = plan.dnsmasq.pid if plan.dnsmasq else None
    return result


def plan_present(request, document, tools):
    network = _checked_network(request, document)
    usage = NetworkUsage(network).add_facts(request.host, document)
    allocation = allocate(network, usage, request.instances or [], dhcp_hosts=[request.host],
                          requested_dhcp={request.host: request.dhcp_server})
    dhcp_server = allocation.dhcp_servers[request.host]
    facts_sections.record_network(document, network, request.host, dhcp_server)
    facts_sections.record_fixed_ips(document, allocation.fixed_ips)
    probe = _layout_probe(tools, network)
    current = probe()
    bridge_layout.check_usable(current, network)
    target = bridge_layout.present_target(current, bridge_layout.gateway_address(network, dhcp_server))
    process = _dnsmasq_process(tools, request)
    dnsmasq = DnsmasqStep(tools.run_command, process, tools.find_binary("dnsmasq"),
                          hosts_file_text(network, facts_sections.fixed_ips_of(document, network.uuid)),
                          dnsmasq_arguments(network, dhcp_server, process.files, request.dnsmasq_config_file,
                                            request.dhcp_lease_time))
    steps = [BridgeStep(tools.run_command, probe, current, target),
             ForwardingStep(tools.run_command, tools.read_file),
             ChainsStep(tools.run_command, bridge_chains(network.bridge), True, _iptables_lock(request)),
             dnsmasq]
    outputs = {"dhcp_server": dhcp_server, "fixed_ips": allocation.fixed_ips, "released": [],
               "network_info": network_info(network, dhcp_server, allocation.fixed_ips)}
    return Plan(steps, outputs, dnsmasq)


def plan_release(request, document, tools):
    """Nova's deallocate_fixed_ip: the hosts file loses the lines and a running dnsmasq is HUPed."""
    network = _checked_network(request, document)
    released = facts_sections.release_fixed_ips(document, network.uuid, request.instances)
    outputs = {"dhcp_server": None, "fixed_ips": [], "network_info": {}, "released": [r["address"] for r in released]}
    recorded = document["networks"].get(network.uuid)
    if not recorded:
        return Plan([], outputs)
    outputs["dhcp_server"] = recorded["dhcp_server"]
    dnsmasq = DnsmasqStep(tools.run_command, _dnsmasq_process(tools, request), None,
                          hosts_file_text(network, facts_sections.fixed_ips_of(document, network.uuid)),
                          KEEP_RUNNING, start=False)
    return Plan([dnsmasq], outputs, dnsmasq)


def plan_teardown(request, document, tools):
    """Stop dnsmasq, drop its files and chains, take the DHCP-server address off the bridge."""
    network = _checked_network(request, document)
    holding = facts_sections.fixed_ips_of(document, network.uuid)
    if holding:
        raise InvalidInput("%s still holds %d fixed IPs on this host (instances %s): release them first"
                           % (network.describe(), len(holding), ", ".join(r["instance_uuid"] for r in holding)))
    recorded = document["networks"].get(network.uuid) or {}
    dhcp_server = recorded.get("dhcp_server") or request.dhcp_server
    facts_sections.remove_network(document, network.uuid)
    address = bridge_layout.gateway_address(network, dhcp_server) if dhcp_server else None
    probe = _layout_probe(tools, network)
    current = probe()
    dnsmasq = DnsmasqStep(tools.run_command, _dnsmasq_process(tools, request), None, None, None)
    steps = [dnsmasq,
             ChainsStep(tools.run_command, bridge_chains(network.bridge), False, _iptables_lock(request)),
             BridgeStep(tools.run_command, probe, current,
                        bridge_layout.teardown_target(current, address, request.remove_bridge))]
    outputs = {"dhcp_server": None, "fixed_ips": [], "network_info": {}, "released": []}
    return Plan(steps, outputs, dnsmasq)


def _checked_network(request, document):
    recorded = document["networks"].get(request.network.uuid)
    if recorded:
        request.network.check_same_layout(recorded, "this host")
    return request.network


def _layout_probe(tools, network):
    return lambda: bridge_layout.Layout(probe_device(tools.run_command, network.bridge),
                                        probe_device(tools.run_command, network.bridge_interface))


def _dnsmasq_process(tools, request):
    files = DnsmasqFiles(request.networks_path, request.network.bridge)
    return DnsmasqProcess(files, tools.proc_root, tools.send_signal)


def _iptables_lock(request):
    return os.path.join(request.locks_path, "nova-iptables")


def _diff(transaction, network_id, changed_steps):
    before, after = {}, {}
    facts_before, facts_after = (_facts_view(d, network_id) for d in (transaction.before, transaction.document))
    if facts_before != facts_after:
        before["facts"], after["facts"] = facts_before, facts_after
    for step in changed_steps:
        before[step.name], after[step.name] = step.before, step.after
    return {"before": before, "after": after}


def _facts_view(document, network_id):
    return {"network": document["networks"].get(network_id),
            "fixed_ips": {a: r for a, r in document["fixed_ips"].items() if r.get("network_id") == network_id}}
