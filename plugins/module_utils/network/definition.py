# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A FlatDHCP network as ``nova-manage network create`` made it, and the pool it hands out.

Nova's ``NetworkManager._do_create_networks`` (``nova/network/manager.py``) derived gateway =
subnet[1] and dhcp_start = subnet[2], and kept the network address, the gateway and the
broadcast address as reserved rows. Here the pool is every address from dhcp_start up to the
one before broadcast, minus the gateway and ``reserved``.

``NetworkRecord.from_params`` is a plain function of a plain dict, so the controller's request
step checks an inventory definition with exactly the rules nova_network and ipam_allocate apply.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.validate import IPRange, IPSet

FIELDS = ("uuid", "label", "cidr", "gateway", "dhcp_start", "netmask", "broadcast", "dns1", "dns2",
          "bridge", "bridge_interface", "multi_host", "project_id", "vlan", "reserved", "dhcp_domain")
REQUIRED_FIELDS = ("uuid", "label", "cidr", "bridge")
SMALLEST_PREFIX = 30  # network, gateway, one address to hand out, broadcast
DEFAULT_DHCP_DOMAIN = "novalocal"  # Nova's dhcp_domain flag
VLAN_IDS = (1, 4094)

# The ``network`` option of nova_network and ipam_allocate. Nothing in it is required by Ansible:
# a release works from the host's records, so a broken definition must not stop it before
# the module runs; ``from_params`` names what is missing when the definition is used.
NETWORK_OPTIONS = {
    "uuid": {"type": "str"},
    "label": {"type": "str"},
    "cidr": {"type": "str"},
    "gateway": {"type": "str"},
    "dhcp_start": {"type": "str"},
    "netmask": {"type": "str"},
    "broadcast": {"type": "str"},
    "dns1": {"type": "str"},
    "dns2": {"type": "str"},
    "bridge": {"type": "str"},
    "bridge_interface": {"type": "str"},
    "multi_host": {"type": "bool", "default": False},
    "project_id": {"type": "str"},
    "vlan": {"type": "int"},
    "reserved": {"type": "list", "elements": "str", "default": []},
    "dhcp_domain": {"type": "str", "default": DEFAULT_DHCP_DOMAIN},
}
NETWORK = {"type": "dict", "options": NETWORK_OPTIONS}


class NetworkRecord:
    """The validated definition (``FIELDS`` as attributes), its netaddr ``network`` and ``pool``."""

    def __init__(self, **fields):
        for name in FIELDS:
            setattr(self, name, fields[name])
        self.network = validate.ipv4_network(self.cidr, "network.cidr")
        self.pool = self._pool()

    @classmethod
    def from_params(cls, params):
        """Validate a definition (the ``network`` option or an inventory's); fills in what Nova derived."""
        validate.mapping(params, "network")
        validate.reject_unknown(params, FIELDS, "network")
        missing = [name for name in REQUIRED_FIELDS if params.get(name) in (None, "")]
        if missing:
            raise InvalidInput("network: missing %s (every definition needs %s)"
                               % (", ".join(missing), ", ".join(REQUIRED_FIELDS)), value=missing)
        network = _sized_network(params["cidr"])
        multi_host = params.get("multi_host")
        return cls(
            uuid=validate.uuid(params["uuid"], "network.uuid"),
            label=validate.dnsmasq_tag(params["label"], "network.label"),
            cidr=str(network),
            gateway=_host_address(params.get("gateway") or network[1], network, "network.gateway"),
            dhcp_start=_host_address(params.get("dhcp_start") or network[2], network, "network.dhcp_start"),
            netmask=_derived(params.get("netmask"), network.netmask, "network.netmask"),
            broadcast=_derived(params.get("broadcast"), network.broadcast, "network.broadcast"),
            dns1=validate.optional_ipv4_address(params.get("dns1"), "network.dns1"),
            dns2=validate.optional_ipv4_address(params.get("dns2"), "network.dns2"),
            bridge=validate.device_name(params["bridge"], "network.bridge"),
            bridge_interface=_optional_device(params.get("bridge_interface"), "network.bridge_interface"),
            multi_host=False if multi_host is None else validate.flag(multi_host, "network.multi_host"),
            project_id=validate.one_line(params.get("project_id"), "network.project_id"),
            vlan=_vlan(params.get("vlan")),
            reserved=_reserved(params.get("reserved"), network),
            dhcp_domain=validate.dns_domain(params.get("dhcp_domain") or DEFAULT_DHCP_DOMAIN, "network.dhcp_domain"),
        )

    @classmethod
    def from_facts(cls, recorded):
        """The network as a host's facts recorded it (``networks[uuid]``, which adds this host's fields)."""
        return cls.from_params({name: recorded.get(name) for name in FIELDS})

    def describe(self):
        return "network %s (%s)" % (self.label, self.uuid)

    def to_facts(self):
        return {name: getattr(self, name) for name in FIELDS}

    def why_not_in_pool(self, address):
        """None when ``address`` (a netaddr IPAddress) may be handed out, else why not, for messages."""
        if address not in self.network:
            return "it is outside %s" % self.cidr
        if address in self.pool:
            return None
        for what in ("gateway", "broadcast"):
            if str(address) == getattr(self, what):
                return "it is the %s" % what
        if address == self.network.network:
            return "it is the network address"
        if address < validate.ipv4_address(self.dhcp_start, "network.dhcp_start"):
            return "it is below dhcp_start %s" % self.dhcp_start
        return "it is reserved"

    def check_same_layout(self, recorded, where):
        """Refuse a network whose uuid is already recorded with another cidr or bridge."""
        for name in ("cidr", "bridge"):
            if recorded.get(name) != getattr(self, name):
                raise InvalidInput("%s is recorded on %s with %s %s, not %s: take it down there first"
                                   % (self.describe(), where, name, recorded.get(name), getattr(self, name)))

    def reserved_set(self):
        reserved = IPSet()
        for entry in self.reserved:
            reserved |= validate.address_range(entry, "network.reserved")
        return reserved

    def _pool(self):
        first = validate.ipv4_address(self.dhcp_start, "network.dhcp_start")
        pool = IPSet(IPRange(first, self.network.broadcast - 1))
        return pool - IPSet([self.gateway]) - self.reserved_set()


def _sized_network(cidr):
    network = validate.ipv4_network(cidr, "network.cidr")
    if network.prefixlen > SMALLEST_PREFIX:
        raise InvalidInput("network.cidr %s is too small: expected a prefix of /%d or shorter"
                           % (network, SMALLEST_PREFIX), value=str(network))
    return network


def _host_address(value, network, what):
    address = validate.ipv4_address(value, what)
    if address not in network or address in (network.network, network.broadcast):
        raise InvalidInput("%s %s is not a host address of %s (expected %s to %s)"
                           % (what, address, network, network[1], network[-2]), value=str(address))
    return str(address)


def _derived(given, derived, what):
    """Netmask and broadcast follow from the cidr; one that is given must agree with it."""
    if given not in (None, "") and validate.ipv4_address(given, what) != derived:
        raise InvalidInput("%s %s does not match the cidr (expected %s, or leave it out)" % (what, given, derived),
                           value=given)
    return str(derived)


def _optional_device(value, what):
    return None if value in (None, "") else validate.device_name(value, what)


def _vlan(value):
    return None if value is None else validate.whole_number(value, "network.vlan (a VLAN id)", *VLAN_IDS)


def _reserved(entries, network):
    """Entries as given (without spaces), each checked to parse and to lie inside the network."""
    normalized = []
    for entry in validate.sequence(entries, "network.reserved"):
        if not validate.address_range(entry, "network.reserved entry").issubset(IPSet(network)):
            raise InvalidInput("network.reserved entry %r is not inside %s" % (entry, network), value=entry)
        normalized.append(str(entry).replace(" ", ""))
    return normalized
