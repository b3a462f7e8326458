#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: nova_network
short_description: Set up a FlatDHCP network on a compute host and commit fixed IPs (nova-network)
version_added: 0.1.0
description:
  - Does on one compute host what nova-network's FlatDHCPManager did in C(allocate_fixed_ip) and
    C(_setup_network_on_host) (seed section 1.4), for a whole batch of instances in one call.
  - Under the host's facts lock it re-checks every allocation against this host's facts and refuses
    an address or MAC another instance holds, then records C(networks[uuid]) (with this host's
    C(dhcp_server)) and C(fixed_ips[address]) in C(/etc/ansible/facts.d/novalite.fact).
  - "Bridge (linux_net.ensure_bridge): created if absent with forward delay 0 and STP off, brought up;
    O(network.bridge_interface) is enslaved and its IPv4 addresses and gateway routes move onto the
    bridge in one C(ip -batch). The DHCP-server address is put first on the bridge
    (initialize_gateway_device) and C(net.ipv4.ip_forward) set to 1."
  - "iptables: chains C(nova-fwd-<bridge>) (hooked from FORWARD, C(-i/-o <bridge> -j ACCEPT)) and
    C(nova-in-<bridge>) (hooked from INPUT, DHCP and DNS to dnsmasq) are owned by this module and
    applied whole with C(iptables-restore --noflush)."
  - "dnsmasq with the seed's flags (C(--strict-order --bind-interfaces --conf-file= --domain
    --pid-file --listen-address --except-interface=lo --dhcp-range=set:<label>,<dhcp_start>,static,<netmask>,<lease>s
    --dhcp-lease-max --dhcp-hostsfile --leasefile-ro)); files C(nova-<bridge>.conf) (one
    C(mac,hostname.domain,ip) line per fixed IP on this host, mode 0644) and C(nova-<bridge>.pid) in
    O(networks_path). A changed hosts file is applied with SIGHUP, a dead dnsmasq started again, one
    running with other flags replaced; the pid file is trusted only when C(/proc/<pid>/cmdline) is
    dnsmasq with this hosts file."
  - Instances given without O(instances[].address) or O(instances[].mac) get them allocated from this
    host's own facts (single-host use). In multi-host use allocate with M(novalite.compute.ipam_allocate)
    on the controller first and pass its C(by_host) entries here.
  - O(state=absent) with O(instances) releases those instances (hosts line removed, dnsmasq HUPed,
    address freed). O(state=absent) without O(instances) takes the network down on this host.
  - If a step fails, the steps already applied are undone and the facts are left as they were.
options:
  network:
    description:
      - The network, as nova-manage created it. The seed's C(private) network is the example.
    type: dict
    required: true
    suboptions:
      uuid:
        description: The network's UUID.
        type: str
        required: true
      label:
        description: Its name; also the dnsmasq tag (C(set:<label>)), so letters, digits, C(_), C(.), C(-).
        type: str
        required: true
      cidr:
        description: The IPv4 network, for example C(10.1.0.0/16); prefix /30 or shorter.
        type: str
        required: true
      gateway:
        description: The guests' gateway; defaults to the first host address of O(network.cidr).
        type: str
      dhcp_start:
        description: The lowest address handed out; defaults to the second host address.
        type: str
      netmask:
        description: Derived from O(network.cidr); if given it must match.
        type: str
      broadcast:
        description: Derived from O(network.cidr); if given it must match.
        type: str
      dns1:
        description: First DNS server given to guests (network_info).
        type: str
      dns2:
        description: Second DNS server.
        type: str
      bridge:
        description: The Linux bridge, at most 15 characters of letters, digits, C(_), C(.), C(-).
        type: str
        required: true
      bridge_interface:
        description: The physical interface enslaved to the bridge (its addresses and routes move over).
        type: str
      multi_host:
        description: Each compute host serves DHCP from an address of its own (else the gateway does).
        type: bool
        default: false
      project_id:
        description: The owning project, if any (network_info C(meta.tenant_id)).
        type: str
      vlan:
        description: Recorded only (FlatDHCP does not tag).
        type: int
      reserved:
        description:
          - Addresses never handed out besides network, gateway and broadcast, each an address,
            a range C(a-b) or a CIDR inside O(network.cidr).
        type: list
        elements: str
        default: []
      dhcp_domain:
        description: Domain of the guests' names in the hosts file.
        type: str
        default: novalocal
  instances:
    description:
      - "With O(state=present): the instances of this host to commit, each as returned in
        C(by_host[host].instances) of M(novalite.compute.ipam_allocate). Instances already recorded keep
        their address, MAC and VIF id."
      - With O(state=absent), the instances to release (only O(instances[].instance_uuid) is used);
        leave O(instances) out to take the whole network down on this host.
    type: list
    elements: dict
    suboptions:
      instance_uuid:
        description: The instance's UUID.
        type: str
        required: true
      instance_name:
        description: Its name (C(instance-%08x)), kept in facts.
        type: str
      hostname:
        description: Its hostname, a DNS label; required with O(state=present).
        type: str
      address:
        description: Its fixed IP; allocated from this host's facts when left out.
        type: str
      mac:
        description: Its MAC (unicast); a new C(fa:16:3e) one when left out.
        type: str
      vif_id:
        description: Its VIF UUID; a new one when left out.
        type: str
  dhcp_server:
    description:
      - This host's DHCP-server address on the network. When left out it is taken from facts, or the
        next free pool address (multi_host), or the gateway (not multi_host).
    type: str
  host:
    description: This host's name as recorded in facts; defaults to its hostname. Pass C(inventory_hostname).
    type: str
  state:
    description: C(present) sets up and commits; C(absent) releases O(instances) or takes the network down.
    type: str
    choices: [present, absent]
    default: present
  remove_bridge:
    description:
      - With O(state=absent) and no O(instances), also delete the bridge, moving its remaining
        addresses and routes back to O(network.bridge_interface).
    type: bool
    default: false
  networks_path:
    description: Directory of the dnsmasq files (Nova's C($state_path/networks)); others must be able to search it.
    type: path
    default: /var/lib/novalite/networks
  facts_path:
    description: The host's facts document.
    type: path
    default: /etc/ansible/facts.d/novalite.fact
  locks_path:
    description: Directory of external locks (C(nova-iptables) is taken while applying chains).
    type: path
    default: /var/lib/novalite/locks
  dnsmasq_config_file:
    description: Passed as C(--conf-file=); empty means no configuration file at all.
    type: str
    default: ""
  dhcp_lease_time:
    description: Lease time in seconds (dnsmasq's minimum is 120).
    type: int
    default: 120
notes:
  - Needs root, iproute2, iptables, sysctl and dnsmasq on the host.
  - Lease events (nova-dhcpbridge) are not reproduced, so no C(--dhcp-script).
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes
"""

EXAMPLES = r"""
- name: Allocate addresses for the batch on the controller
  novalite.compute.ipam_allocate:
    network: "{{ novalite_network }}"
    requests: "{{ instances | map(attribute='allocation_request') | list }}"
  run_once: true
  delegate_to: localhost
  register: ipam

- name: Set up the network and commit this host's fixed IPs
  novalite.compute.nova_network:
    network: "{{ novalite_network }}"
    host: "{{ inventory_hostname }}"
    instances: "{{ ipam.by_host[inventory_hostname].instances | default([]) }}"
    dhcp_server: "{{ ipam.by_host[inventory_hostname].dhcp_server | default(omit) }}"
  register: net

- name: Single host, the seed's network; addresses allocated from this host's facts
  novalite.compute.nova_network:
    network:
      uuid: e011b388-163b-4080-a083-bb63ebed7f6a
      label: private
      cidr: 10.1.0.0/16
      dns1: 8.8.4.4
      bridge: br100
      bridge_interface: eth0
      multi_host: true
    instances:
      - instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0
        instance_name: instance-0000000a
        hostname: vm1

- name: Release an instance (delete flow)
  novalite.compute.nova_network:
    network: "{{ novalite_network }}"
    state: absent
    instances:
      - instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0

- name: Take the network down on this host and give eth0 its addresses back
  novalite.compute.nova_network:
    network: "{{ novalite_network }}"
    state: absent
    remove_bridge: true
"""

RETURN = r"""
network_info:
  description:
    - "Per instance of O(instances), its VIFs in the seed's shape: C(id) (VIF uuid), C(address) (MAC),
      C(meta), C(network) with C(id), C(label), C(bridge), C(meta) (C(tenant_id), C(multi_host),
      C(should_create_bridge), C(bridge_interface)) and C(subnets): the IPv4 one (C(cidr), C(version),
      C(ips) of type fixed, C(gateway), C(dns), C(routes), C(meta.dhcp_server)) and an empty IPv6 one."
  returned: always (empty unless O(state=present))
  type: dict
  sample:
    90844617-d71f-474f-9cdf-35e244c846b0:
      - id: 99a3c937-1a0f-48f7-8015-166d7644e9a0
        address: "fa:16:3e:5a:f4:23"
        meta: {}
        network:
          id: e011b388-163b-4080-a083-bb63ebed7f6a
          label: private
          bridge: br100
          meta: {tenant_id: null, multi_host: true, should_create_bridge: true, bridge_interface: eth0}
          subnets:
            - cidr: 10.1.0.0/16
              version: 4
              ips: [{address: 10.1.0.2, type: fixed, version: 4, meta: {}, floating_ips: []}]
              gateway: {address: 10.1.0.1, type: gateway, version: 4, meta: {}}
              dns: [{address: 8.8.4.4, type: dns, version: 4, meta: {}}]
              routes: []
              meta: {dhcp_server: 10.1.0.3}
            - {cidr: null, version: null, ips: [], dns: [], routes: [], meta: {dhcp_server: 10.1.0.3},
               gateway: {address: null, type: gateway, version: null, meta: {}}}
fixed_ips:
  description: The committed fixed IP of each instance of O(instances) (with O(state=present)).
  returned: always
  type: list
  elements: dict
  contains:
    address: {description: The fixed IP., type: str}
    network_id: {description: The network uuid., type: str}
    mac: {description: The MAC., type: str}
    vif_id: {description: The VIF uuid., type: str}
    instance_uuid: {description: The instance., type: str}
    instance_name: {description: Its name., type: str}
    hostname: {description: Its hostname., type: str}
    host: {description: This host., type: str}
dhcp_server:
  description: This host's DHCP-server address on the network (null once taken down).
  returned: always
  type: str
  sample: 10.1.0.3
dnsmasq_pid:
  description: The pid of the network's dnsmasq on this host (null when none runs).
  returned: always
  type: int
  sample: 4242
released:
  description: The addresses freed (O(state=absent) with O(instances)).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.network.argument_specs import NOVA_NETWORK_SPEC
from ansible_collections.novalite.compute.plugins.module_utils.network.host_service import ensure_state


def main():
    module = AnsibleModule(argument_spec=NOVA_NETWORK_SPEC, supports_check_mode=True)
    run_module(module, ensure_state)


if __name__ == "__main__":
    main()
