# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every rule a compute host needs, derived from what it recorded: Nova's ``init_host``,
``metadata_forward`` and ``floating_forward_rules`` (``nova/network/linux_net.py``).

The host's facts document holds its networks (each with this host's DHCP server and its egress
settings) and its floating IP associations; ``host_chains`` turns all of it into one
``iptables.ChainSet``, so every run (a create, a delete, a floating IP change) writes the same
whole state with one ``iptables-restore`` per table, and a network or an association that is no
longer recorded loses its rules. Nothing here reads the inventory.

filter (per network, as before): ``nova-fwd-<bridge>`` (from FORWARD) and ``nova-in-<bridge>``
(from INPUT: DHCP, DNS and the metadata server's port).

nat, with Nova's chain names (``nova-network-`` is the binary name Nova prefixed them with):

- ``nova-network-PREROUTING`` (from PREROUTING): the metadata DNAT of each network (its guests'
  169.254.169.254:80 to this host's DHCP address and metadata port; ``-i <bridge>`` so that each
  network's guests reach their own network's server) and each floating IP's DNAT to its fixed IP;
- ``nova-network-OUTPUT`` (from OUTPUT): the floating DNATs again, for the host's own traffic;
- ``nova-network-POSTROUTING`` (from POSTROUTING): per network, no translation towards the
  metadata host, the DMZ and the fixed range itself (``! --ctstate DNAT``); per floating IP, the
  SNAT of DNATed traffic to it;
- ``nova-network-snat`` (from POSTROUTING, after the chain above): first a jump to
  ``nova-network-float-snat`` (each floating IP's own SNAT), then per network and
  force_snat_range the SNAT of the fixed range to the routing source address on the public
  interface. No MASQUERADE.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.network.iptables import ChainSet, OwnedChain
from ansible_collections.novalite.compute.plugins.module_utils.network.metadata import DEFAULT_PORT, METADATA_ADDRESS

PREROUTING = "nova-network-PREROUTING"
OUTPUT = "nova-network-OUTPUT"
POSTROUTING = "nova-network-POSTROUTING"
SNAT = "nova-network-snat"
FLOAT_SNAT = "nova-network-float-snat"
NAT_CHAINS = (PREROUTING, OUTPUT, POSTROUTING, SNAT, FLOAT_SNAT)
ANYWHERE = "0.0.0.0/0"
BRIDGE_FORWARD_PREFIX = "nova-fwd-"
FILTER_PREFIXES = (BRIDGE_FORWARD_PREFIX + "*", "nova-in-*")


def cidr(value, what):
    """A CIDR as iptables-save prints it (``10.1.0.0/16``, ``203.0.113.7/32``)."""
    return str(validate.ipv4_network(value, what))


def host_chains(document):
    """The ChainSet of the host's whole recorded state (every network, every floating IP association)."""
    networks = sorted(document.get("networks", {}).values(), key=lambda record: record["bridge"])
    associations = sorted(document.get("floating_associations", {}).values(),
                          key=lambda record: validate.ipv4_address(record["address"], "floating ip"))
    chains = []
    for record in networks:
        chains += bridge_filter_chains(record)
    if networks:
        chains += nat_chains(networks, associations)
    owns = [("filter", prefix) for prefix in FILTER_PREFIXES] + [("nat", name) for name in NAT_CHAINS]
    return ChainSet(chains, owns=owns)


def bridge_filter_chains(record):
    """ensure_bridge's FORWARD accepts; DHCP, DNS and the metadata port for this host's servers."""
    bridge = record["bridge"]
    accepts = ["-i %s -p %s -m %s --dport %d -j ACCEPT" % (bridge, proto, proto, port)
               for port in (67, 53) for proto in ("udp", "tcp")]
    if record.get("dhcp_server"):
        accepts.append("-d %s/32 -p tcp -m tcp --dport %d -j ACCEPT"
                       % (record["dhcp_server"], record.get("metadata_port") or DEFAULT_PORT))
    forward = ["-i %s -j ACCEPT" % bridge, "-o %s -j ACCEPT" % bridge]
    return [OwnedChain("filter", BRIDGE_FORWARD_PREFIX + bridge, forward, hooks=["FORWARD"]),
            OwnedChain("filter", "nova-in-" + bridge, accepts, hooks=["INPUT"])]


def nat_chains(networks, associations):
    prerouting, postrouting, snat = [], [], ["-j " + FLOAT_SNAT]
    for record in networks:
        prerouting += metadata_forward(record)
        postrouting += snat_exceptions(record)
        snat += snat_rules(record)
    output, float_snat = [], []
    for association in associations:
        rules = floating_forward_rules(association)
        prerouting += rules["PREROUTING"]
        output += rules["OUTPUT"]
        postrouting += rules["POSTROUTING"]
        float_snat += rules["float-snat"]
    # declared in this order: the POSTROUTING chain's hook ends up above the snat chain's
    return [OwnedChain("nat", PREROUTING, prerouting, hooks=["PREROUTING"]),
            OwnedChain("nat", OUTPUT, output, hooks=["OUTPUT"]),
            OwnedChain("nat", POSTROUTING, postrouting, hooks=["POSTROUTING"]),
            OwnedChain("nat", SNAT, snat, hooks=["POSTROUTING"]),
            OwnedChain("nat", FLOAT_SNAT, float_snat)]


def metadata_forward(record):
    """Nova's metadata_forward: 169.254.169.254:80 of this network's guests to its metadata server."""
    if not record.get("dhcp_server"):
        return []
    return ["-d %s/32 -i %s -p tcp -m tcp --dport 80 -j DNAT --to-destination %s:%d"
            % (METADATA_ADDRESS, record["bridge"], record["dhcp_server"], record.get("metadata_port") or DEFAULT_PORT)]


def snat_exceptions(record):
    """init_host's ACCEPTs: to the metadata host, to each DMZ, and within the fixed range (unless DNATed)."""
    fixed = cidr(record["cidr"], "network cidr")
    rules = []
    if record.get("dhcp_server"):
        rules.append("-s %s -d %s/32 -j ACCEPT" % (fixed, record["dhcp_server"]))
    rules += ["-s %s -d %s -j ACCEPT" % (fixed, cidr(dmz, "dmz_cidr")) for dmz in record.get("dmz_cidr") or []]
    rules.append("-s %s -d %s -m conntrack ! --ctstate DNAT -j ACCEPT" % (fixed, fixed))
    return rules


def snat_rules(record):
    """add_snat_rule: the fixed range to the routing source address, per force_snat_range (default anywhere)."""
    source = record.get("routing_source_ip")
    if not source:
        return []  # recorded before egress existed: nothing to translate to until a present run records it
    fixed = cidr(record["cidr"], "network cidr")
    device = record.get("public_interface")
    rules = []
    for destination in record.get("force_snat_range") or [ANYWHERE]:
        destination = cidr(destination, "force_snat_range")
        rule = "-s %s" % fixed
        if destination != ANYWHERE:
            rule += " -d %s" % destination
        if device:
            rule += " -o %s" % device
        rules.append(rule + " -j SNAT --to-source %s" % source)
    return rules


def floating_forward_rules(association):
    """Nova's floating_forward_rules for one floating IP bound to one fixed IP, as iptables-save prints them."""
    floating, fixed = association["address"], association["fixed_ip"]
    device = association.get("interface")
    snat = "-s %s/32" % fixed
    if device:
        float_snat = ["%s -d %s/32 -j SNAT --to-source %s" % (snat, fixed, floating),
                      "%s -o %s -j SNAT --to-source %s" % (snat, device, floating)]
    else:
        float_snat = ["%s -j SNAT --to-source %s" % (snat, floating)]
    dnat = "-d %s/32 -j DNAT --to-destination %s" % (floating, fixed)
    return {"float-snat": float_snat, "PREROUTING": [dnat], "OUTPUT": [dnat],
            "POSTROUTING": ["-s %s/32 -m conntrack --ctstate DNAT -j SNAT --to-source %s" % (fixed, floating)]}
