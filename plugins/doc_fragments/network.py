# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The ``network`` option of nova_network and ipam_allocate: one FlatDHCP network definition."""

    DOCUMENTATION = r"""
options:
  network:
    description:
      - A FlatDHCP network, as C(nova-manage network create) made it, for example the C(private) network
        10.1.0.0/16 on C(br100) of the examples. The module's description says when it is needed.
      - O(network.uuid), O(network.label), O(network.cidr) and O(network.bridge) are required in every
        definition; a definition without them is refused when it is used.
    type: dict
    suboptions:
      uuid:
        description: The network's UUID (required).
        type: str
      label:
        description:
          - Its name (required); also the dnsmasq tag (C(set:<label>)), so 1 to 64 letters, digits,
            C(_), C(.) or C(-).
        type: str
      cidr:
        description:
          - The IPv4 network in CIDR form without host bits (required), for example V(10.1.0.0/16);
            prefix /30 or shorter.
        type: str
      gateway:
        description: The guests' gateway; defaults to the first host address of O(network.cidr).
        type: str
      dhcp_start:
        description: The lowest address handed out; defaults to the second host address of O(network.cidr).
        type: str
      netmask:
        description: Derived from O(network.cidr); if given it must match.
        type: str
      broadcast:
        description: Derived from O(network.cidr); if given it must match.
        type: str
      dns1:
        description: First DNS server given to guests (in the instances' C(network_info)).
        type: str
      dns2:
        description: Second DNS server given to guests.
        type: str
      bridge:
        description:
          - The Linux bridge on the compute hosts (required), 1 to 15 letters, digits, C(_), C(.) or C(-),
            starting with a letter or digit.
        type: str
      bridge_interface:
        description: The physical interface enslaved to the bridge (its addresses and routes move over).
        type: str
      multi_host:
        description: Each compute host serves DHCP from an address of its own; with V(false) the gateway does.
        type: bool
        default: false
      project_id:
        description: The owning project, if any (C(meta.tenant_id) of the instances' C(network_info)).
        type: str
      vlan:
        description: A VLAN id from 1 to 4094, recorded only (FlatDHCP does not tag).
        type: int
      reserved:
        description:
          - Addresses never handed out besides the network address, the gateway and the broadcast
            address, each an address, a range V(10.1.0.10-10.1.0.20) or a CIDR inside O(network.cidr).
        type: list
        elements: str
        default: []
      dhcp_domain:
        description: Domain of the guests' names in the dnsmasq hosts files.
        type: str
        default: novalocal
"""
