# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security groups as iptables chains: Nova's ``IptablesFirewallDriver`` (``nova/virt/firewall.py``,
``instance_rules``, ``_do_basic_rules``, ``_do_dhcp_rules``, ``_do_project_network_rules``), which
the libvirt driver ran on top of ``NWFilterFirewall`` for anti-spoofing only.

libvirt's nwfilter driver sets up one interface at a time and runs each rule through its own
ebtables or iptables command at every domain start. Here the per-interface filter keeps only
nova-base (MAC, IP and ARP anti-spoofing, which libvirt does well), and every inbound rule lives
in chains written with one ``iptables-restore`` for the whole batch (network/iptables.py):

- ``nova-sg-<group>``: one ACCEPT per inbound rule of the group. Instances jump to it, so a
  group's change reaches every running guest that uses it with one rewrite, as libvirt's
  re-application of a redefined filter did.
- ``nova-vif-<mac without colons>``: one per interface, Nova's ``nova-compute-inst-<id>``: drop
  INVALID, accept ESTABLISHED/RELATED, DHCP replies from the DHCP server, the project network
  (``allow_same_net_traffic``), then a jump to each group's chain, then drop. Hooked from FORWARD
  with ``-d <fixed ip>/32`` above the bridges' accepts (``nova-fwd-<bridge>``), as Nova hooked
  ``nova-filter-top`` first.

Egress stays open (Nova had no egress rules), so ``out`` rules add nothing and are not written.
The host's own traffic to its guests (OUTPUT) is not filtered, as with libvirt's nwfilter.
"""

from __future__ import annotations

import hashlib

from ansible_collections.novalite.compute.plugins.module_utils.network.iptables import (
    CHAIN_NAME_MAX, ChainSet, Hook, OwnedChain, TableState, jump_target)
from ansible_collections.novalite.compute.plugins.module_utils.network.nat import BRIDGE_FORWARD_PREFIX

TABLE = "filter"
GROUP_CHAIN_PREFIX = "nova-sg-"
VIF_CHAIN_PREFIX = "nova-vif-"
HASH_LENGTH = 8


def group_chain_name(group_name):
    """``nova-sg-<group>``; a name too long for a chain keeps its start and gets a hash of the whole."""
    name = GROUP_CHAIN_PREFIX + group_name
    if len(name) <= CHAIN_NAME_MAX:
        return name
    digest = hashlib.sha1(group_name.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    return "%s%s-%s" % (GROUP_CHAIN_PREFIX, group_name[:CHAIN_NAME_MAX - len(GROUP_CHAIN_PREFIX) - HASH_LENGTH - 1],
                        digest)


def vif_chain_name(mac):
    return VIF_CHAIN_PREFIX + mac.replace(":", "")


def group_rules(group):
    """Nova's ``_build_tcp_udp_rule`` and ``_build_icmp_rule``, as iptables-save prints them."""
    return [_accept(rule) for rule in group.rules if rule["direction"] == "in"]


def _accept(rule):
    words = ["-s %s" % rule["cidr"]] if rule["cidr"].prefixlen else []
    protocol = rule["protocol"]
    if protocol != "all":
        words.append("-p " + protocol)
    if rule["ports"]:
        first, last = rule["ports"]
        words.append("-m %s --dport %s" % (protocol, first if first == last else "%d:%d" % (first, last)))
    if rule["icmp"]:
        icmp_type, icmp_code = rule["icmp"]
        words.append("-m icmp --icmp-type %s" % (icmp_type if icmp_code is None else "%d/%d" % (icmp_type, icmp_code)))
    return " ".join(words + ["-j ACCEPT"])


def vif_rules(spec):
    """Nova's ``instance_rules`` for one interface: the frame around its groups' chains."""
    rules = ["-m conntrack --ctstate INVALID -j DROP", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    if spec.dhcp and spec.dhcp_server:
        rules.append("-s %s/32 -p udp -m udp --sport 67 --dport 68 -j ACCEPT" % spec.dhcp_server)
    if spec.same_net and spec.project_cidr:
        rules.append("-s %s -j ACCEPT" % spec.project_cidr)
    rules += ["-j " + group_chain_name(group) for group in spec.groups]
    return rules + ["-j DROP"]


def vif_chain(spec):
    hooks = [Hook("FORWARD", "-d %s/32" % spec.address, above=BRIDGE_FORWARD_PREFIX)] if spec.address else []
    return OwnedChain(TABLE, vif_chain_name(spec.mac), vif_rules(spec), hooks=hooks)


def present_chains(groups, specs):
    """The groups' chains, then the interfaces' (each exactly what it names, nothing by prefix)."""
    chains = [OwnedChain(TABLE, group_chain_name(group.name), group_rules(group)) for group in groups]
    return ChainSet(chains + [vif_chain(spec) for spec in specs])


def absent_chains(groups, specs, existing):
    """Nothing declared: the interfaces' chains go with their hooks, and so do the groups given and
    every group chain that no remaining interface jumps to (``existing``: the host's filter table).

    As with Nova's instance chains, a group's rules are on a host only while an instance there uses it.
    """
    removed = {vif_chain_name(spec.mac) for spec in specs}
    chains = existing.rules
    remaining = [rules for name, rules in chains.items() if name.startswith(VIF_CHAIN_PREFIX) and name not in removed]
    used = {jump_target(rule) for rules in remaining for rule in rules}
    unused = [name for name in chains if name.startswith(GROUP_CHAIN_PREFIX) and name not in used]
    owns = sorted(removed) + [group_chain_name(group.name) for group in groups] + unused
    return ChainSet(owns=[(TABLE, name) for name in dict.fromkeys(owns)])


def existing_chains(run_command):
    """The host's filter table (a TableState), read once for the plan and the step."""
    return TableState.probe(run_command, TABLE)


def groups_on_host(existing, names):
    """The groups of ``names`` whose chains exist in ``existing`` (the host's filter table)."""
    return [name for name in names if group_chain_name(name) in existing.rules]
