#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the work is done by the action plugin plugins/action/ipam_allocate.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: ipam_allocate
short_description: Allocate fixed IPs, MACs and DHCP-server addresses for a batch (controller side)
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin); run it once per play, delegated to localhost.
  - Reproduces the allocation half of nova-network's C(allocate_for_instance) for a whole batch -
    a random unique C(fa:16:3e:xx:xx:xx) MAC, a VIF uuid and the lowest free address at or above
    C(dhcp_start) for each instance, and (multi_host) an address for each host that does not serve
    the network yet, taken right after its first instance's as Nova did (seed - guest 10.1.0.2, host 10.1.0.3).
  - What is taken is the union of every compute host's facts (C(ansible_local.novalite), its C(fixed_ips) and
    each host's C(dhcp_server)) and of the controller's ledger of recent allocations, computed with
    netaddr IPSet arithmetic. The ledger (C(<state_dir>/ipam.json)) is read and written under an
    exclusive lock, so two plays started at the same moment never hand out the same address or MAC,
    although each gathered its facts before the other committed.
  - Idempotent - an instance that already has an allocation in facts or in the ledger gets the same one back.
  - A ledger entry lasts O(ledger_ttl) seconds, and goes earlier when the facts show its VIF released
    or its instance or address held otherwise, or when O(release) names its instance. It is kept after
    the facts show it, for plays whose facts are older than that commit.
  - Commit the allocations on each host with M(novalite.compute.nova_network), which re-checks them.
  - Check mode computes the same allocations and records nothing.
options:
  network:
    description:
      - The network (same suboptions as O(novalite.compute.nova_network#module:network)).
      - Keys - uuid, label, cidr (required), gateway, dhcp_start, netmask, broadcast, dns1, dns2, bridge
        (required), bridge_interface, multi_host (default false), project_id, vlan, reserved (default []),
        dhcp_domain (default novalocal).
    type: dict
    required: true
  requests:
    description: The instances to allocate for, in order.
    type: list
    elements: dict
    default: []
    suboptions:
      instance_uuid:
        description: The instance's UUID (the idempotency key).
        type: str
        required: true
      instance_name:
        description: Its name (C(instance-%08x)).
        type: str
      hostname:
        description: Its hostname, a DNS label (it goes into the dnsmasq hosts file).
        type: str
        required: true
      host:
        description: The compute host it was scheduled to; must be one of O(hosts).
        type: str
        required: true
      address:
        description: A requested fixed IP; refused when taken, reserved or outside the pool.
        type: str
      mac:
        description: A requested MAC; refused when malformed, multicast or used in the network.
        type: str
  release:
    description:
      - Instance UUIDs whose ledger entries to drop (the delete flow, beside M(novalite.compute.nova_network)
        O(novalite.compute.nova_network#module:state=absent) on their host).
    type: list
    elements: str
    default: []
  hosts:
    description:
      - The compute hosts whose facts are read; their facts (at least C(gather_subset=local)) must have been
        gathered. Defaults to the inventory group C(compute).
    type: list
    elements: str
  state_dir:
    description: Controller directory of the ledger and its lock.
    type: path
    default: ~/.ansible/novalite
  ledger_ttl:
    description:
      - Seconds a ledger entry lasts; longer than the age of the oldest facts any concurrent play may allocate from.
    type: int
    default: 3600
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes.controller
"""

EXAMPLES = r"""
- name: Allocate for the instances of this run (seed values - first guest 10.1.0.2, its host 10.1.0.3)
  novalite.compute.ipam_allocate:
    network: {uuid: e011b388-163b-4080-a083-bb63ebed7f6a, label: private, cidr: 10.1.0.0/16, dns1: 8.8.4.4,
              bridge: br100, bridge_interface: eth0, multi_host: true}
    requests:
      - instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0
        instance_name: instance-0000000a
        hostname: vm1
        host: compute1
  run_once: true
  delegate_to: localhost
  register: ipam

- name: Commit on each host
  novalite.compute.nova_network:
    network: "{{ ipam.network }}"
    host: "{{ inventory_hostname }}"
    instances: "{{ ipam.by_host[inventory_hostname].instances | default([]) }}"
    dhcp_server: "{{ ipam.by_host[inventory_hostname].dhcp_server | default(omit) }}"

- name: Forget the ledger entries of deleted instances
  novalite.compute.ipam_allocate:
    network: "{{ novalite_network }}"
    release: ["90844617-d71f-474f-9cdf-35e244c846b0"]
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
allocations:
  description: One per request, in order (the same ones on every run).
  returned: always
  type: list
  elements: dict
  contains:
    instance_uuid: {description: The instance., type: str}
    instance_name: {description: Its name., type: str}
    hostname: {description: Its hostname., type: str}
    host: {description: Its compute host., type: str}
    address: {description: Its fixed IP., type: str, sample: 10.1.0.2}
    mac: {description: Its MAC., type: str, sample: "fa:16:3e:76:b4:2f"}
    vif_id: {description: Its VIF uuid., type: str}
    network_id: {description: The network uuid., type: str}
dhcp_servers:
  description: The DHCP-server address of every host in the requests ({host - address}).
  returned: always
  type: dict
  sample: {compute1: 10.1.0.3}
by_host:
  description:
    - Per host in the requests - C(dhcp_server) and C(instances) (instance_uuid, instance_name, hostname,
      address, mac, vif_id), ready for M(novalite.compute.nova_network)'s options of the same names.
  returned: always
  type: dict
network:
  description: The validated network with derived values filled in (gateway, dhcp_start, netmask, broadcast).
  returned: always
  type: dict
released:
  description: Addresses whose ledger entries O(release) dropped.
  returned: always
  type: list
  elements: str
"""
