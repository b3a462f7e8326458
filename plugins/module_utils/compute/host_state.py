# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a compute host is as its records say: what a create run would still find to do there.

Nova's compute manager compared the two when it started (``ComputeManager.init_host``:
``_init_instance`` read each instance's power state from the driver next to the recorded one,
``plug_vifs`` and the network manager's ``init_host`` rebuilt the bridges, the rules and dnsmasq).
Here the comparison is only read, never acted on, in the call that reads the host's records
(``compute_node_facts``), so that a create whose instances all exist and run can skip its build:

- each recorded instance's domain power state, from libvirt (one ``listAllDomains``);
- the host's network against its records, with the probes of the network modules' own plan
  (network/): each recorded network's bridge and DHCP-server address, forwarding, the metadata
  address, the owned iptables chains, the floating addresses, and each network's dnsmasq
  (running, its hosts files as recorded) and metadata server (running).

An instance is *in place* when it is recorded active with no task in progress, its domain runs
and the host's network is as recorded: a create run has nothing to do for it.
"""

from __future__ import annotations

import sys

from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text
from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import DEFAULT_LOCKS_PATH
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import (
    ACTIVE, NOSTATE, RUNNING, live_records)
from ansible_collections.novalite.compute.plugins.module_utils.network import linux_net
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NetworkRecord
from ansible_collections.novalite.compute.plugins.module_utils.network.dnsmasq import (
    DnsmasqFiles, DnsmasqProcess, dns_hosts_text, hosts_file_text)
from ansible_collections.novalite.compute.plugins.module_utils.network.host_plan import host_steps
from ansible_collections.novalite.compute.plugins.module_utils.network.metadata_service import (
    MetadataFiles, MetadataProcess)
from ansible_collections.novalite.compute.plugins.module_utils.network.records import dns_names_of, fixed_ips_of
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import POWER_STATES, call
from ansible_collections.novalite.compute.plugins.module_utils.virt.power import LIBVIRT_POWER_STATE

# set by compute_node_facts next to the compute node record
STATE_FACT = "novalite_host_state"


def domain_power_states(conn):
    """{domain name: Nova's power state} of every domain libvirt has on the host."""
    domains = call("listing the domains", conn.listAllDomains, 0)
    return {domain.name(): LIBVIRT_POWER_STATE[POWER_STATES.get(call("reading the state of a domain",
                                                                     domain.state)[0], "nostate")]
            for domain in domains}


def network_differences(run_command, find_optional, document, networks_path, proc_root="/proc"):
    """What of the host's network is not as its records say (names; empty when all is).

    A probe that fails says so as a difference: the comparison never fails the read of the records
    (a delete must work whatever the host's state).
    """
    try:
        return _network_differences(run_command, find_optional, document, networks_path, proc_root)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return ["not compared (%s)" % exc]


def _network_differences(run_command, find_optional, document, networks_path, proc_root):
    differences = []
    for record in sorted(document["networks"].values(), key=lambda r: r["bridge"]):
        network = NetworkRecord.from_facts(record)
        current = linux_net.probe_layout(run_command, network)
        target = linux_net.present_target(current, linux_net.gateway_address(network, record["dhcp_server"]))
        if linux_net.BridgeStep(run_command, network, current, target).changed:
            differences.append("bridge %s" % network.bridge)
        differences += _daemon_differences(document, network, networks_path, proc_root)
    if document["networks"] and linux_net.ForwardingStep(run_command, read_text).changed:
        differences.append("ip_forward")
    steps = host_steps(run_command, find_optional, DEFAULT_LOCKS_PATH, document)
    differences += [step.name for step in steps if step.changed]
    return differences


def _daemon_differences(document, network, networks_path, proc_root):
    files = DnsmasqFiles(networks_path, network.bridge)
    differences = []
    if DnsmasqProcess(files, proc_root).running()[0] is None:
        differences.append("dnsmasq %s not running" % network.bridge)
    wanted = {files.hosts: hosts_file_text(network, fixed_ips_of(document, network.uuid)),
              files.dns_hosts: dns_hosts_text(network, dns_names_of(document, network.uuid))}
    if any(read_text(path) != text for path, text in wanted.items()):
        differences.append("dnsmasq %s hosts files" % network.bridge)
    metadata = MetadataProcess(MetadataFiles(networks_path, network.bridge), proc_root, python=sys.executable)
    if metadata.running()[0] is None:
        differences.append("metadata server %s not running" % network.bridge)
    return differences


def host_state(instances, power_states, network_changes):
    """The fact STATE_FACT: each live record's domain power state, the network's differences, and
    the instances in place."""
    live = live_records(instances)
    powers = {r["uuid"]: power_states.get(r.get("name"), NOSTATE) for r in live}
    in_place = [] if network_changes else sorted(
        r["uuid"] for r in live
        if r.get("vm_state") == ACTIVE and not r.get("task_state") and powers[r["uuid"]] == RUNNING)
    return {"power_states": powers, "network_changes": list(network_changes), "in_place": in_place}
