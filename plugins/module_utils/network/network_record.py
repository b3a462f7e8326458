# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A FlatDHCP network as nova-manage created it, and the pool of addresses it hands out.

Nova (``_do_create_networks``): gateway = subnet[1], dhcp_start = subnet[2], and the network
address, the gateway and the broadcast address are reserved rows. Here the pool is every
address from dhcp_start up to the one before broadcast, minus the gateway and ``reserved``.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network import names
from ansible_collections.novalite.compute.plugins.module_utils.network.addresses import (
    parse_address_range, parse_ipv4, parse_ipv4_network)
from ansible_collections.novalite.compute.plugins.module_utils.network.netaddr_import import IPRange, IPSet

FIELDS = ("uuid", "label", "cidr", "gateway", "dhcp_start", "netmask", "broadcast", "dns1", "dns2",
          "bridge", "bridge_interface", "multi_host", "project_id", "vlan", "reserved", "dhcp_domain")
SMALLEST_PREFIX = 30  # network, gateway, one address to hand out, broadcast
DEFAULT_DHCP_DOMAIN = "novalocal"  # Nova's dhcp_domain flag


class NetworkRecord:
    def __init__(self, **fields):
        for name in FIELDS:
            setattr(self, name, fields[name])
        self.network = parse_ipv4_network(self.cidr, "network.cidr")
        self.pool = self._pool()

    @classmethod
    def from_params(cls, params):
        """Validate the ``network`` option (or a recorded network); fills in what Nova derived."""
        network = parse_ipv4_network(params.get("cidr"), "network.cidr")
        if network.prefixlen > SMALLEST_PREFIX:
            raise InvalidInput("network.cidr %s is too small: expected a prefix of /%d or shorter"
                               % (network, SMALLEST_PREFIX), value=str(network))
        fields = {
            "uuid": names.uuid_string(params.get("uuid"), "network.uuid"),
            "label": names.dnsmasq_tag(params.get("label"), "network.label"),
            "cidr": str(network),
            "gateway": _host_address(params.get("gateway") or network[1], network, "network.gateway"),
            "dhcp_start": _host_address(params.get("dhcp_start") or network[2], network, "network.dhcp_start"),
            "netmask": _derived(params.get("netmask"), network.netmask, "network.netmask"),
            "broadcast": _derived(params.get("broadcast"), network.broadcast, "network.broadcast"),
            "dns1": _optional_address(params.get("dns1"), "network.dns1"),
            "dns2": _optional_address(params.get("dns2"), "network.dns2"),
            "bridge": names.device_name(params.get("bridge"), "network.bridge"),
            "bridge_interface": _optional_device(params.get("bridge_interface"), "network.bridge_interface"),
            "multi_host": bool(params.get("multi_host")),
            "project_id": names.printable(params.get("project_id"), "network.project_id"),
            "vlan": _vlan(params.get("vlan")),
            "reserved": _reserved(params.get("reserved") or [], network),
            "dhcp_domain": names.dns_domain(params.get("dhcp_domain") or DEFAULT_DHCP_DOMAIN, "network.dhcp_domain"),
        }
        return cls(**fields)

    def describe(self):
        return "network %s (%s)" % (self.label, self.uuid)

    def to_facts(self):
        return {name: getattr(self, name) for name in FIELDS}

    def why_not_in_pool(self, address):
        """None when ``address`` may be handed out, else why not (for error messages)."""
        if address not in self.network:
            return "it is outside %s" % self.cidr
        if address in self.pool:
            return None
        for what in ("gateway", "broadcast"):
            if str(address) == getattr(self, what):
                return "it is the %s" % what
        if address == self.network.network:
            return "it is the network address"
        if address < parse_ipv4(self.dhcp_start, "dhcp_start"):
            return "it is below dhcp_start %s" % self.dhcp_start
        return "it is reserved"

    def check_same_layout(self, recorded, where):
        """Refuse a network whose uuid is already recorded with another cidr or bridge."""
        for name in ("cidr", "bridge"):
            if recorded.get(name) != getattr(self, name):
                raise InvalidInput("%s is recorded on %s with %s %s, not %s: take it down there first"
                                   % (self.describe(), where, name, recorded.get(name), getattr(self, name)))

    def _pool(self):
        last = self.network.broadcast - 1
        pool = IPSet(IPRange(parse_ipv4(self.dhcp_start, "dhcp_start"), last))
        return pool - IPSet([self.gateway]) - IPSet(self.reserved_set())

    def reserved_set(self):
        reserved = IPSet()
        for entry in self.reserved:
            reserved |= parse_address_range(entry, "network.reserved")
        return reserved


def _host_address(value, network, what):
    address = parse_ipv4(value, what)
    if address not in network or address in (network.network, network.broadcast):
        raise InvalidInput("%s %s is not a host address of %s (expected %s to %s)"
                           % (what, address, network, network[1], network[-2]), value=str(address))
    return str(address)


def _derived(given, derived, what):
    if given is not None and parse_ipv4(given, what) != derived:
        raise InvalidInput("%s %s does not match the cidr (expected %s, or leave it out)" % (what, given, derived),
                           value=given)
    return str(derived)


def _optional_address(value, what):
    return None if value in (None, "") else str(parse_ipv4(value, what))


def _optional_device(value, what):
    return None if value in (None, "") else names.device_name(value, what)


def _vlan(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4094:
        raise InvalidInput("network.vlan %r is not a VLAN id (expected 1 to 4094)" % (value,), value=value)
    return value


def _reserved(entries, network):
    """Entries as given (normalised spacing), each checked to parse and to lie inside the network."""
    normalized = []
    for entry in entries:
        addresses = parse_address_range(entry, "network.reserved entry")
        if not addresses.issubset(IPSet(network)):
            raise InvalidInput("network.reserved entry %r is not inside %s" % (entry, network), value=entry)
        normalized.append(str(entry).replace(" ", ""))
    return normalized
