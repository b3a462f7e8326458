# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``networks`` and ``fixed_ips`` sections of a host's facts document (owned by nova_network)."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.network.addresses import address_key

# A released VIF id stays listed so the controller's ledger can drop a reservation the host
# committed and released between two allocations; the newest ones are enough for that.
RELEASED_VIF_IDS_KEPT = 1000


def record_network(document, network, host, dhcp_server):
    previous = document["networks"].get(network.uuid) or {}
    record = network.to_facts()
    record.update(dhcp_server=dhcp_server, host=host, released_vif_ids=previous.get("released_vif_ids", []))
    document["networks"][network.uuid] = record


def record_fixed_ips(document, fixed_ips):
    for record in fixed_ips:
        document["fixed_ips"][record["address"]] = dict(record)


def fixed_ips_of(document, network_id):
    """This network's fixed ip records on the host, lowest address first."""
    records = [r for r in document["fixed_ips"].values() if r.get("network_id") == network_id]
    return sorted(records, key=lambda r: address_key(r["address"]))


def release_fixed_ips(document, network_id, instance_uuids):
    """Remove the instances' fixed ips (Nova's deallocate_fixed_ip); returns the released records."""
    wanted = set(instance_uuids)
    released = [r for r in fixed_ips_of(document, network_id) if r["instance_uuid"] in wanted]
    for record in released:
        del document["fixed_ips"][record["address"]]
    network = document["networks"].get(network_id)
    if network is not None and released:
        kept = network.get("released_vif_ids", []) + [r["vif_id"] for r in released]
        network["released_vif_ids"] = kept[-RELEASED_VIF_IDS_KEPT:]
    return released


def remove_network(document, network_id):
    document["networks"].pop(network_id, None)
