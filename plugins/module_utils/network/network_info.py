# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""network_info in the seed's VIF shape (nova.network.model: VIF > Network > Subnet > IP).

The seed's network had an IPv4 subnet and an empty IPv6 one (cidr_v6 None); both are kept so
consumers see what Nova's did.
"""

from __future__ import annotations


def _ip(address, kind, version=4):
    return {"address": address, "type": kind, "version": version if address else None, "meta": {}}


def _subnets(network, dhcp_server, address):
    fixed = dict(_ip(address, "fixed"), floating_ips=[])
    dns = [_ip(server, "dns") for server in (network.dns1, network.dns2) if server]
    ipv4 = {"cidr": network.cidr, "version": 4, "ips": [fixed], "gateway": _ip(network.gateway, "gateway"),
            "dns": dns, "routes": [], "meta": {"dhcp_server": dhcp_server}}
    ipv6 = {"cidr": None, "version": None, "ips": [], "gateway": _ip(None, "gateway"),
            "dns": [], "routes": [], "meta": {"dhcp_server": dhcp_server}}
    return [ipv4, ipv6]


def vif(network, dhcp_server, fixed_ip):
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


def network_info(network, dhcp_server, fixed_ips):
    """{instance uuid: [VIF]} (one network, so one VIF per instance)."""
    return {record["instance_uuid"]: [vif(network, dhcp_server, record)] for record in fixed_ips}
