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
  - Does the allocation half of nova-network's C(allocate_for_instance) (C(nova/network/manager.py)) for a
    whole batch - a random unique C(fa:16:3e:xx:xx:xx) MAC, a VIF UUID and the lowest free address at or
    above O(network.dhcp_start) for each instance, and (O(network.multi_host=true)) an address for each
    host that does not serve the network yet, taken right after its first instance's as Nova did (first
    guest of 10.1.0.0/16 10.1.0.2, its host's DHCP server 10.1.0.3).
  - What is taken is the union of every compute host's facts (C(ansible_local.novalite), its C(fixed_ips)
    and each host's C(dhcp_server)) and of the controller's ledger of recent allocations, computed with
    netaddr IPSet arithmetic. The ledger (C(<state_dir>/ipam.json)) is read and written under an
    exclusive lock, so two plays started at the same moment never hand out the same address or MAC,
    although each gathered its facts before the other committed.
  - Idempotent - an instance that already has an allocation in facts or in the ledger gets the same one back.
  - A ledger entry lasts O(ledger_ttl) seconds, and goes earlier when the facts show its VIF released
    or its instance or address held otherwise, or when O(release) names its instance. It is kept after
    the facts show it, for plays whose facts are older than that commit.
  - Commit the allocations on each host with M(novalite.compute.nova_network), which re-checks them.
  - O(network) is required unless the call only releases (O(release) given, O(requests) empty). A release
    alone finds the instances in every network's ledger entries and does not read O(network), so a
    definition that changed or broke since does not block it.
  - With O(floating_ip), every instance of O(requests) that has no floating IP yet gets one of O(floating_pool)
    (Nova's C(auto_assign_floating_ip) - no quota, released with the instance), taken like the fixed IPs from the
    union of every host's facts and the ledger (kind C(floating_ips)) under its lock, and kept by the instance's
    host (RV(by_host)); O(requests[].project_id) is then required. The pools (O(floating_ranges)) are checked
    first, none may overlap another or a fixed range.
  - RV(dns_names) lists every instance of the network on every host and RV(other_hosts) the hosts that serve the
    network without an instance in O(requests), for M(novalite.compute.nova_network)'s O(novalite.compute.nova_network#module:dns_names)
    (Nova's C(update_dns)).
  - All input is checked before the ledger is touched; check mode computes the same allocations and
    records nothing.
options:
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
        description: Its libvirt name (C(instance-%08x)).
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
      project_id:
        description: Its project (needed with O(floating_ip), the owner of its floating IP).
        type: str
  release:
    description:
      - Instance UUIDs whose ledger entries to drop, in every network (the delete flow, beside
        M(novalite.compute.nova_network) with O(novalite.compute.nova_network#module:state=absent) on
        their host).
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
  floating_ip:
    description: Give every instance of O(requests) that has none a floating IP (auto-assigned).
    type: bool
    default: false
  floating_pool:
    description: The pool of those floating IPs (Nova's C(default_floating_pool)).
    type: str
    default: nova
seealso:
  - module: novalite.compute.nova_network
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.floating
  - novalite.compute.attributes.controller
  - novalite.compute.network
"""

EXAMPLES = r"""
- name: Allocate for the instances of this run (first guest 10.1.0.2, its host's DHCP server 10.1.0.3)
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

- name: Forget the ledger entries of deleted instances (no network definition needed)
  novalite.compute.ipam_allocate:
    release: ["90844617-d71f-474f-9cdf-35e244c846b0"]
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
allocations:
  description: One fixed IP record per request, in order (the same ones on every run).
  returned: always
  type: list
  elements: dict
  sample:
    - instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0
      instance_name: instance-0000000a
      hostname: vm1
      host: compute1
      address: 10.1.0.2
      mac: "fa:16:3e:76:b4:2f"
      vif_id: 99a3c937-1a0f-48f7-8015-166d7644e9a0
      network_id: e011b388-163b-4080-a083-bb63ebed7f6a
  contains:
    instance_uuid:
      description: The instance's UUID.
      type: str
      sample: 90844617-d71f-474f-9cdf-35e244c846b0
    instance_name:
      description: Its libvirt name (null when never given).
      type: str
      sample: instance-0000000a
    hostname:
      description: Its hostname.
      type: str
      sample: vm1
    host:
      description: Its compute host.
      type: str
      sample: compute1
    address:
      description: Its fixed IP.
      type: str
      sample: 10.1.0.2
    mac:
      description: Its MAC.
      type: str
      sample: "fa:16:3e:76:b4:2f"
    vif_id:
      description: Its VIF UUID.
      type: str
      sample: 99a3c937-1a0f-48f7-8015-166d7644e9a0
    network_id:
      description: The network's UUID.
      type: str
      sample: e011b388-163b-4080-a083-bb63ebed7f6a
dhcp_servers:
  description: The DHCP-server address of every host in the requests, by host name.
  returned: always
  type: dict
  sample: {compute1: 10.1.0.3, compute2: 10.1.0.5}
  contains:
    <host>:
      description: The DHCP-server address of this host on the network.
      type: str
      sample: 10.1.0.3
by_host:
  description:
    - Per host in the requests (by host name), what M(novalite.compute.nova_network) on that host takes.
  returned: always
  type: dict
  sample:
    compute1:
      dhcp_server: 10.1.0.3
      instances:
        - instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0
          instance_name: instance-0000000a
          hostname: vm1
          address: 10.1.0.2
          mac: "fa:16:3e:76:b4:2f"
          vif_id: 99a3c937-1a0f-48f7-8015-166d7644e9a0
      floating_ips: []
  contains:
    <host>:
      description: The entry of the host of this name.
      type: dict
      sample: {dhcp_server: 10.1.0.3, instances: [], floating_ips: []}
      contains:
        dhcp_server:
          description: Its DHCP-server address, for O(novalite.compute.nova_network#module:dhcp_server).
          type: str
          sample: 10.1.0.3
        instances:
          description:
            - Its instances, for O(novalite.compute.nova_network#module:instances), with the fields of RV(allocations).
          type: list
          elements: dict
          sample: [{instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0, hostname: vm1, address: 10.1.0.2}]
          contains:
            instance_uuid: {description: The instance's UUID., type: str, sample: 90844617-d71f-474f-9cdf-35e244c846b0}
            instance_name: {description: Its libvirt name (null when never given)., type: str, sample: instance-0000000a}
            hostname: {description: Its hostname., type: str, sample: vm1}
            address: {description: Its fixed IP., type: str, sample: 10.1.0.2}
            mac: {description: Its MAC., type: str, sample: "fa:16:3e:76:b4:2f"}
            vif_id: {description: Its VIF UUID., type: str, sample: 99a3c937-1a0f-48f7-8015-166d7644e9a0}
        floating_ips:
          description:
            - With O(floating_ip), its instances' floating IPs, for O(novalite.compute.nova_network#module:floating_ips).
          type: list
          elements: dict
          sample: [{address: 192.168.96.129, pool: nova, project_id: default, auto_assigned: true, interface: null,
                    instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0}]
          contains:
            address: {description: The floating IP., type: str, sample: 192.168.96.129}
            pool: {description: Its pool (O(floating_pool))., type: str, sample: nova}
            project_id: {description: "The instance's project (O(requests[].project_id)).", type: str, sample: default}
            auto_assigned: {description: Always V(true) here (released with the instance)., type: bool, sample: true}
            interface: {description: The pool's interface (null for the public interface)., type: str, sample: null}
            instance_uuid: {description: The instance it is for., type: str, sample: 90844617-d71f-474f-9cdf-35e244c846b0}
dns_names:
  description: "Every instance of the network on every host, C({address: hostname}) (empty for a release alone)."
  returned: always
  type: dict
  sample: {10.1.0.2: vm1, 10.1.0.4: vm2}
  contains:
    <address>:
      description: The hostname of the instance with that fixed IP.
      type: str
      sample: vm1
other_hosts:
  description: The hosts that serve the network but have no instance in O(requests).
  returned: always
  type: list
  elements: str
  sample: [compute3]
network:
  description:
    - The validated network with the derived values filled in (O(network.gateway), O(network.dhcp_start),
      O(network.netmask), O(network.broadcast)); null for a call that only releases.
  returned: always
  type: dict
  sample:
    uuid: e011b388-163b-4080-a083-bb63ebed7f6a
    label: private
    cidr: 10.1.0.0/16
    gateway: 10.1.0.1
    dhcp_start: 10.1.0.2
    netmask: 255.255.0.0
    broadcast: 10.1.255.255
    dns1: 8.8.4.4
    dns2: null
    bridge: br100
    bridge_interface: eth0
    multi_host: true
    project_id: null
    vlan: null
    reserved: []
    dhcp_domain: novalocal
  contains:
    uuid: {description: The network's UUID., type: str, sample: e011b388-163b-4080-a083-bb63ebed7f6a}
    label: {description: Its name., type: str, sample: private}
    cidr: {description: Its IPv4 network., type: str, sample: 10.1.0.0/16}
    gateway: {description: The guests' gateway., type: str, sample: 10.1.0.1}
    dhcp_start: {description: The lowest address handed out., type: str, sample: 10.1.0.2}
    netmask: {description: The netmask of O(network.cidr)., type: str, sample: 255.255.0.0}
    broadcast: {description: The broadcast address of O(network.cidr)., type: str, sample: 10.1.255.255}
    dns1: {description: First DNS server (null when none)., type: str, sample: 8.8.4.4}
    dns2: {description: Second DNS server (null when none)., type: str, sample: null}
    bridge: {description: The bridge., type: str, sample: br100}
    bridge_interface: {description: The interface enslaved to the bridge (null when none)., type: str, sample: eth0}
    multi_host: {description: Whether each host serves DHCP itself., type: bool, sample: true}
    project_id: {description: The owning project (null when none)., type: str, sample: null}
    vlan: {description: The recorded VLAN id (null when none)., type: int, sample: null}
    reserved:
      description: The reserved entries, without spaces.
      type: list
      elements: str
      sample: [10.1.0.10-10.1.0.20]
    dhcp_domain: {description: Domain of the guests' names., type: str, sample: novalocal}
released:
  description: Addresses whose ledger entries O(release) dropped, in the order of O(release).
  returned: always
  type: list
  elements: str
  sample: [10.1.0.2]
"""
