# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The facts sections the network modules own, and ``network_info`` in nova.network.model's shape.

A host's facts document holds what Nova's database held for its network manager:

- ``networks`` — ``{uuid: the definition + dhcp_server + host + released_vif_ids + the egress
  settings (routing_source_ip, public_interface, dmz_cidr, force_snat_range, metadata_port) +
  dns_names}``: one record per network this host serves. ``dns_names`` ({address: hostname}) are
  the instances of the network on the *other* hosts, as the controller last told this host (Nova
  listed every fixed IP of the network in each host's addn-hosts file from its database);
- ``fixed_ips`` — ``{address: fixed ip record}`` of this host's instances;
- ``floating_ips`` and ``floating_associations`` (see network/floating.py).
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.network.egress import EGRESS_FIELDS
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import address_key

# A released VIF id stays listed so the controller's ledger can drop a reservation the host
# committed and released between two allocations; the newest ones are enough for that.
RELEASED_VIF_IDS_KEPT = 1000


def record_network(document, network, host, dhcp_server, egress=None):
    """The network's record on this host; egress settings and names not given are kept as recorded."""
    previous = document["networks"].get(network.uuid) or {}
    record = network.to_facts()
    record.update(dhcp_server=dhcp_server, host=host, released_vif_ids=previous.get("released_vif_ids", []))
    for field in EGRESS_FIELDS + ("dns_names",):
        if field in previous:
            record[field] = previous[field]
    record.update(egress or {})
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


# --- names for DNS -------------------------------------------------------------------------------

def record_dns_names(document, network_id, names):
    """Keep ``names`` ({address: hostname}, every instance of the network) of the other hosts' instances."""
    record = document["networks"].get(network_id)
    if record is None or names is None:
        return
    own = {r["address"] for r in fixed_ips_of(document, network_id)}
    record["dns_names"] = {address: hostname for address, hostname in sorted(names.items()) if address not in own}


def dns_names_of(document, network_id):
    """{address: hostname} of every instance of the network: this host's own, then those recorded of others."""
    record = document["networks"].get(network_id) or {}
    names = dict(record.get("dns_names") or {})
    names.update((r["address"], r["hostname"]) for r in fixed_ips_of(document, network_id))
    return names


# --- network_info --------------------------------------------------------------------------------

def network_info(network, dhcp_server, fixed_ips, floating=None):
    """{instance uuid: [VIF]} in ``nova/network/model.py``'s shape (VIF > Network > Subnet > IP).

    One network, so one VIF per instance. FlatDHCP networks had an IPv4 subnet and an empty IPv6
    one (cidr_v6 None); both are kept so consumers see what Nova's did. ``floating`` ({fixed IP:
    [floating addresses]}) fills each fixed IP's ``floating_ips``, as Nova's FixedIP carried them.
    """
    return {record["instance_uuid"]: [_vif(network, dhcp_server, record, (floating or {}).get(record["address"], []))]
            for record in fixed_ips}


def _vif(network, dhcp_server, fixed_ip, floating):
    return {
        "id": fixed_ip["vif_id"],
        "address": fixed_ip["mac"],
        "meta": {},
        "network": {
            "id": network.uuid,
            "label": network.label,
            "bridge": network.bridge,
            "subnets": _subnets(network, dhcp_server, fixed_ip["address"], floating),
            "meta": {"tenant_id": network.project_id, "multi_host": network.multi_host,
                     "should_create_bridge": True, "bridge_interface": network.bridge_interface,
                     "dhcp_domain": network.dhcp_domain},
        },
    }


def _subnets(network, dhcp_server, address, floating):
    fixed = dict(_ip(address, "fixed"), floating_ips=[_ip(f, "floating") for f in floating])
    dns = [_ip(server, "dns") for server in (network.dns1, network.dns2) if server]
    ipv4 = {"cidr": network.cidr, "version": 4, "ips": [fixed], "gateway": _ip(network.gateway, "gateway"),
            "dns": dns, "routes": [], "meta": {"dhcp_server": dhcp_server}}
    ipv6 = {"cidr": None, "version": None, "ips": [], "gateway": _ip(None, "gateway"),
            "dns": [], "routes": [], "meta": {"dhcp_server": dhcp_server}}
    return [ipv4, ipv6]


def _ip(address, kind, version=4):
    return {"address": address, "type": kind, "version": version if address else None, "meta": {}}


def with_floating_ips(vifs, floating):
    """A copy of an instance's stored network_info with each fixed IP's ``floating_ips`` set from
    ``floating`` ({fixed IP: [floating addresses]}): the info cache refresh of a floating IP change."""
    refreshed = []
    for vif in vifs or []:
        vif = dict(vif, network=dict(vif.get("network") or {}))
        subnets = []
        for subnet in vif["network"].get("subnets") or []:
            ips = [dict(ip, floating_ips=[_ip(f, "floating") for f in floating.get(ip.get("address"), [])])
                   if ip.get("type") == "fixed" else ip for ip in subnet.get("ips") or []]
            subnets.append(dict(subnet, ips=ips))
        vif["network"]["subnets"] = subnets
        refreshed.append(vif)
    return refreshed
