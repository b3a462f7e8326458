# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One VIF of ``network_info`` (the seed's shape), reduced to what the domain and its filter need.

``{id, address, network: {id, label, bridge, subnets: [{cidr, ips: [{address}], gateway, dns,
meta: {dhcp_server}}], meta}}``. Keys this module does not use are ignored (network_info carries
many); the ones it uses are checked. Subnets without a cidr (the seed's empty IPv6 one) and IPv6
subnets are skipped: Nova's filter parameters are IPv4.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.virt.addresses import (
    ipv4_address, ipv4_network, unicast_mac)
from ansible_collections.novalite.compute.plugins.module_utils.virt.checks import mapping, sequence
from ansible_collections.novalite.compute.plugins.module_utils.virt.names import instance_filter_name, interface_name


class Vif:
    def __init__(self, mac, bridge, address=None, network=None, dhcp_server=None, vif_id=None):
        self.mac = mac
        self.bridge = bridge
        self.address = address  # the fixed IPv4 address, as a string
        self.network = network  # netaddr.IPNetwork of its subnet
        self.dhcp_server = dhcp_server
        self.vif_id = vif_id

    def filter_name(self, instance_name):
        return instance_filter_name(instance_name, self.mac)

    def filter_parameters(self):
        """Nova's IP, DHCPSERVER, PROJNET and PROJMASK, those that network_info gives."""
        parameters = {}
        if self.address:
            parameters["IP"] = self.address
        if self.dhcp_server:
            parameters["DHCPSERVER"] = self.dhcp_server
        if self.network is not None:
            parameters["PROJNET"] = str(self.network.network)
            parameters["PROJMASK"] = str(self.network.netmask)
        return parameters


def parse_vif(raw, what):
    vif = mapping(raw, what)
    mac = unicast_mac(vif.get("address"), "%s address" % what)
    network = mapping(vif.get("network"), "%s network" % what)
    bridge = interface_name(network.get("bridge"), "%s network bridge" % what)
    result = Vif(mac, bridge, vif_id=vif.get("id"))
    for index, subnet in enumerate(sequence(network.get("subnets"), "%s network subnets" % what)):
        _take_subnet(result, mapping(subnet, "%s subnet %d" % (what, index)), "%s subnet %d" % (what, index))
    return result


def _take_subnet(vif, subnet, what):
    """Fill the VIF from the first IPv4 subnet that has a fixed IP."""
    cidr = subnet.get("cidr")
    if vif.address or not cidr or ":" in str(cidr):
        return
    network = ipv4_network(cidr, "%s cidr" % what)
    ips = sequence(subnet.get("ips"), "%s ips" % what)
    if not ips:
        return
    first = ips[0].get("address") if isinstance(ips[0], dict) else ips[0]
    address = ipv4_address(first, "%s fixed IP" % what)
    if address not in network:
        raise InvalidInput("%s fixed IP %s: expected an address inside its subnet %s" % (what, address, network))
    meta = mapping(subnet.get("meta") or {}, "%s meta" % what)
    dhcp_server = meta.get("dhcp_server")
    vif.address = str(address)
    vif.network = network
    vif.dhcp_server = str(ipv4_address(dhcp_server, "%s meta.dhcp_server" % what)) if dhcp_server else None
