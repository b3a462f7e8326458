# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-instance entries of ``ipam_allocate.requests`` and ``nova_network.instances``."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.network import names
from ansible_collections.novalite.compute.plugins.module_utils.network.addresses import parse_ipv4
from ansible_collections.novalite.compute.plugins.module_utils.network.allocator import AllocationRequest
from ansible_collections.novalite.compute.plugins.module_utils.network.mac_address import normalize_mac


def parse_instance(params, host, where):
    """An AllocationRequest from one entry; ``where`` names it in messages (e.g. "instances[0]")."""
    address, mac, vif_id = params.get("address"), params.get("mac"), params.get("vif_id")
    return AllocationRequest(
        instance_uuid=names.uuid_string(params.get("instance_uuid"), where + ".instance_uuid"),
        hostname=names.dns_label(params.get("hostname"), where + ".hostname"),
        host=host,
        instance_name=names.printable(params.get("instance_name"), where + ".instance_name"),
        address=str(parse_ipv4(address, where + ".address")) if address else None,
        mac=normalize_mac(mac, where + ".mac") if mac else None,
        vif_id=names.uuid_string(vif_id, where + ".vif_id") if vif_id else None,
    )
