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
  - Does on one compute host what nova-network's C(FlatDHCPManager) did in C(allocate_fixed_ip) and
    C(_setup_network_on_host) (C(nova/network/manager.py), C(nova/network/linux_net.py)), for a whole
    batch of instances in one call.
  - Under the host's facts lock it re-checks every allocation against this host's facts and refuses
    an address or MAC another instance holds, then records C(networks[uuid]) (with this host's
    C(dhcp_server)) and C(fixed_ips[address]) in the facts document O(facts_path).
  - "Bridge (C(ensure_bridge)): created if absent with forward delay 0 and STP off, brought up;
    O(network.bridge_interface) is enslaved and its IPv4 addresses and gateway routes move onto the
    bridge in one C(ip -batch). The DHCP-server address is put first on the bridge
    (C(initialize_gateway_device)) and C(net.ipv4.ip_forward) set to V(1)."
  - "iptables (C(IptablesManager)): every rule comes from the host's whole recorded state (all its networks and
    floating IPs), in chains this module owns, compared with C(iptables-save) and changed with one
    C(iptables-restore -w --noflush) per changed table under the lock C(nova-iptables) in O(locks_path). Other
    chains are left alone; a missing jump is inserted at the top, an existing one is kept where it is.
    filter - C(nova-fwd-<bridge>) (from FORWARD, C(-i/-o <bridge> -j ACCEPT)) and C(nova-in-<bridge>) (from INPUT,
    DHCP and DNS to dnsmasq and the metadata port to this host's DHCP address)."
  - "nat, as C(init_host) and C(metadata_forward) - C(nova-network-POSTROUTING) holds C(-s <fixed> -d <dhcp
    server>/32 -j ACCEPT), one C(-s <fixed> -d <dmz> -j ACCEPT) per O(dmz_cidr) and C(-s <fixed> -d <fixed> -m
    conntrack ! --ctstate DNAT -j ACCEPT); C(nova-network-snat) (after it) jumps to C(nova-network-float-snat),
    then SNATs the fixed range per O(force_snat_range) (default everywhere) C(-j SNAT --to-source
    <routing_source_ip> -o <public_interface>) - no MASQUERADE; C(nova-network-PREROUTING) DNATs the guests'
    C(169.254.169.254:80) (C(-i <bridge>)) to this host's DHCP address and O(metadata_port), and each floating IP
    to its fixed IP (also in C(nova-network-OUTPUT)). C(169.254.169.254/32) is put on C(lo) (C(ensure_metadata_ip))
    while the host serves a network. O(routing_source_ip) and O(public_interface) default to what the host's
    route to the world uses (C(ip route get 8.8.8.8), Nova's C(my_ip)); the settings are recorded with the
    network, so every later run (a delete, a floating IP change) rebuilds the same rules without them."
  - "dnsmasq with Nova's flags (C(--strict-order --bind-interfaces --conf-file= --domain --pid-file
    --listen-address --except-interface=lo --dhcp-range=set:<label>,<dhcp_start>,static,<netmask>,<lease>s
    --dhcp-lease-max --dhcp-hostsfile --leasefile-ro), then C(--no-hosts) and for a multi_host network
    C(--addn-hosts=<networks_path>/nova-<bridge>.hosts), and with DNS servers in the network C(--no-resolv
    --server=<dns1> [--server=<dns2>])); files C(nova-<bridge>.conf) (one C(mac,hostname.domain,ip) line per
    fixed IP on this host), C(nova-<bridge>.hosts) (C(<ip> <hostname>.<domain>) for every instance of the
    network on every host, this host's own and those of O(dns_names)), both mode 0644, and C(nova-<bridge>.pid)
    in O(networks_path). A changed file is applied with SIGHUP, a dead dnsmasq started again, one running with
    other flags replaced; the pid file is trusted only when C(/proc/<pid>/cmdline) is dnsmasq with this hosts
    file."
  - "The metadata server (C(nova-api-metadata) of a multi_host host): the Python standard-library HTTP server
    of the collection, written to C(<networks_path>/nova-<bridge>.metadata.py) and run with the host's Python,
    listening on this host's DHCP address and O(metadata_port); pid file C(nova-<bridge>.metadata.pid), access
    log C(nova-<bridge>.metadata.log) (client, path, status; never a secret). It serves Nova's EC2 tree
    (C(/latest/meta-data/...), C(user-data)) and OpenStack tree (C(/openstack/latest/meta_data.json),
    C(user_data), C(vendor_data.json), C(network_data.json), and the dated versions) of the instance whose
    fixed IP on the network is the request's source address, from this host's facts and the secrets the
    config drive step wrote in the instance's directory under O(instances_path); anything else gets 404.
    Started again by a re-run when it died, replaced when its arguments or code changed, stopped by its pid
    when the network is taken down."
  - O(floating_ips) (on create, C(auto_assign_floating_ip)) are kept on this host and bound to their instances'
    fixed IPs as M(novalite.compute.floating_ip) binds them.
  - Instances given without O(instances[].address) or O(instances[].mac) get them allocated from this
    host's own facts (single-host use). In multi-host use allocate with M(novalite.compute.ipam_allocate)
    on the controller first and pass its RV(novalite.compute.ipam_allocate#module:by_host) entries here.
  - O(state=absent) with O(instances) releases those instances (Nova's C(deallocate_for_instance)) from what
    this host recorded - each released address's own network (as recorded in the facts) loses the hosts
    lines and its running dnsmasq is sent SIGHUP; their floating IPs are unbound, the auto-assigned ones
    released, the others kept allocated. Only O(network.uuid) is read for that (with O(dns_names)), so a
    definition that changed or broke since the instances were created does not block their release.
  - O(state=absent) without O(instances) takes the network O(network) down on this host (dnsmasq and the
    metadata server stopped, their files and the network's rules removed).
  - O(state=dns) only rewrites the network's C(nova-<bridge>.hosts) from O(dns_names) and sends dnsmasq
    SIGHUP (Nova's C(update_dns)), on a host that serves the network without an instance in the run.
  - O(network) is required with O(state=present) or V(dns) and to take a network down.
  - All input is checked before anything on the host is touched. If a step fails (an exception of any
    kind), the steps already applied are undone newest first and the facts are left as they were; the
    failure names the step (C(failed_step)) and lists what was undone (C(rolled_back)) and any undo
    that failed (C(rollback_failures)).
options:
  instances:
    description:
      - "With O(state=present): the instances of this host to commit, each an entry of this host's
        C(instances) in RV(novalite.compute.ipam_allocate#module:by_host). Instances already recorded keep
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
        description: Its libvirt name (C(instance-%08x)), kept in facts; 1 to 64 letters, digits, C(_), C(.) or C(-).
        type: str
      hostname:
        description: Its hostname, a DNS label (it goes into the dnsmasq hosts file); required with O(state=present).
        type: str
      address:
        description: Its fixed IP; allocated from this host's facts when left out.
        type: str
      mac:
        description: Its MAC (unicast); a new C(fa:16:3e:xx:xx:xx) one when left out.
        type: str
      vif_id:
        description: Its VIF UUID; a new one when left out.
        type: str
  dhcp_server:
    description:
      - This host's DHCP-server address on the network. When left out it is taken from facts, or the
        next free pool address (O(network.multi_host=true)), or the gateway (O(network.multi_host=false)).
      - Not read for a release.
    type: str
  host:
    description: This host's name as recorded in facts; defaults to its hostname. Pass C(inventory_hostname).
    type: str
  state:
    description:
      - V(present) sets the network up and commits O(instances).
      - V(absent) releases O(instances), or without O(instances) takes the network down.
      - V(dns) only refreshes the names of the network (O(dns_names)).
    type: str
    choices: [present, absent, dns]
    default: present
  remove_bridge:
    description:
      - With O(state=absent) and no O(instances), also delete the bridge, moving its remaining
        addresses and routes back to O(network.bridge_interface).
    type: bool
    default: false
  instances_path:
    description: Where instance directories live (the metadata server reads the instances' secrets there).
    type: path
    default: /var/lib/novalite/instances
  routing_source_ip:
    description:
      - The address the fixed range is SNATed to (Nova's C(routing_source_ip)); default the source address of the
        host's route to the world. Recorded with the network; read with O(state=present) only.
    type: str
  public_interface:
    description:
      - The device the SNAT rule names with C(-o) (Nova's C(public_interface)); default the device of the host's
        route to the world, or the bridge when that device is the network's O(network.bridge_interface). V("")
        for none. Refused when the device does not exist.
    type: str
  dmz_cidr:
    description: Destinations the fixed range reaches untranslated (Nova's C(dmz_cidr)).
    type: list
    elements: str
    default: []
  force_snat_range:
    description: The destinations SNAT applies to (Nova's C(force_snat_range)); V([]) means everywhere.
    type: list
    elements: str
    default: []
  metadata_port:
    description: The port of the network's metadata server on this host (Nova's C(metadata_port)).
    type: int
    default: 8775
  dns_names:
    description:
      - "Every instance of the network, on every host, as C({address: hostname}) (from
        RV(novalite.compute.ipam_allocate#module:dns_names)); this host's own come from its facts, the others are
        recorded with the network. Left out, the names recorded are kept."
    type: dict
  floating_ips:
    description:
      - With O(state=present), auto-assigned floating IPs to keep here and bind to their instances of
        O(instances) (from C(by_host[host].floating_ips) of M(novalite.compute.ipam_allocate)).
    type: list
    elements: dict
    default: []
    suboptions:
      address:
        description: The floating IP.
        type: str
        required: true
      pool:
        description: Its pool.
        type: str
        required: true
      project_id:
        description: The project it is allocated to.
        type: str
        required: true
      auto_assigned:
        description: Always true here.
        type: bool
        default: true
      interface:
        description: The pool's interface (default the public interface).
        type: str
      instance_uuid:
        description: Its instance (one of O(instances)).
        type: str
  networks_path:
    description: Directory of the dnsmasq files (Nova's C($state_path/networks)); others must be able to search it.
    type: path
    default: /var/lib/novalite/networks
  facts_path:
    description: The host's facts document (read by C(setup) as C(ansible_local.novalite)).
    type: path
    default: /etc/ansible/facts.d/novalite.fact
  locks_path:
    description: Directory of external locks (C(nova-iptables) is held while chains are applied).
    type: path
    default: /var/lib/novalite/locks
  dnsmasq_config_file:
    description: Passed as C(--conf-file=); V("") means no configuration file at all.
    type: str
    default: ""
  dhcp_lease_time:
    description: Lease time in seconds (dnsmasq's minimum is 120).
    type: int
    default: 120
notes:
  - Needs root, iproute2, iptables, sysctl, dnsmasq and python3 on the host; arping and conntrack for floating IPs.
  - Lease events (nova-dhcpbridge) are not reproduced, so dnsmasq runs without C(--dhcp-script).
seealso:
  - module: novalite.compute.ipam_allocate
  - module: novalite.compute.floating_ip
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes
  - novalite.compute.network
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
    network: "{{ ipam.network }}"
    host: "{{ inventory_hostname }}"
    instances: "{{ ipam.by_host[inventory_hostname].instances | default([]) }}"
    dhcp_server: "{{ ipam.by_host[inventory_hostname].dhcp_server | default(omit) }}"
  register: net

- name: Single host, addresses allocated from this host's facts (first guest 10.1.0.2, DHCP server 10.1.0.3)
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

- name: Release an instance (delete flow); its network is the one the host recorded
  novalite.compute.nova_network:
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
    - "Per instance of O(instances) (by instance UUID), its VIFs in the shape of C(nova/network/model.py):
      C(id) (VIF UUID), C(address) (MAC), C(meta), and C(network) with C(id), C(label), C(bridge),
      C(meta) (C(tenant_id), C(multi_host), C(should_create_bridge), C(bridge_interface)) and C(subnets):
      the IPv4 one (C(cidr), C(version), C(ips) of type C(fixed), C(gateway), C(dns), C(routes),
      C(meta.dhcp_server)) and an empty IPv6 one, as FlatDHCP networks had."
    - Empty unless O(state=present).
  returned: always
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
          meta: {tenant_id: null, multi_host: true, should_create_bridge: true, bridge_interface: eth0,
                 dhcp_domain: novalocal}
          subnets:
            - cidr: 10.1.0.0/16
              version: 4
              ips: [{address: 10.1.0.2, type: fixed, version: 4, meta: {},
                     floating_ips: [{address: 192.168.96.129, type: floating, version: 4, meta: {}}]}]
              gateway: {address: 10.1.0.1, type: gateway, version: 4, meta: {}}
              dns: [{address: 8.8.4.4, type: dns, version: 4, meta: {}}]
              routes: []
              meta: {dhcp_server: 10.1.0.3}
            - {cidr: null, version: null, ips: [], dns: [], routes: [], meta: {dhcp_server: 10.1.0.3},
               gateway: {address: null, type: gateway, version: null, meta: {}}}
  contains:
    <instance_uuid>:
      description: The VIFs of the instance with this UUID (one, as the instance is on one network).
      type: list
      elements: dict
      sample:
        - id: 99a3c937-1a0f-48f7-8015-166d7644e9a0
          address: "fa:16:3e:5a:f4:23"
          meta: {}
          network: {id: e011b388-163b-4080-a083-bb63ebed7f6a, label: private, bridge: br100}
      contains:
        id:
          description: The VIF's UUID.
          type: str
          sample: 99a3c937-1a0f-48f7-8015-166d7644e9a0
        address:
          description: The VIF's MAC.
          type: str
          sample: "fa:16:3e:5a:f4:23"
        meta:
          description: Empty, as Nova's was for FlatDHCP.
          type: dict
          sample: {}
        network:
          description: The network the VIF is on.
          type: dict
          sample: {id: e011b388-163b-4080-a083-bb63ebed7f6a, label: private, bridge: br100}
          contains:
            id:
              description: The network's UUID.
              type: str
              sample: e011b388-163b-4080-a083-bb63ebed7f6a
            label:
              description: The network's label.
              type: str
              sample: private
            bridge:
              description: The bridge the guest's interface is plugged into.
              type: str
              sample: br100
            meta:
              description:
                - C(tenant_id), C(multi_host), C(should_create_bridge) (always V(true)), C(bridge_interface) and
                  C(dhcp_domain) (the domain of the guests' names).
              type: dict
              sample: {tenant_id: null, multi_host: true, should_create_bridge: true, bridge_interface: eth0}
              contains:
                tenant_id: {description: The network's O(network.project_id)., type: str, sample: null}
                multi_host: {description: O(network.multi_host)., type: bool, sample: true}
                should_create_bridge: {description: Always V(true)., type: bool, sample: true}
                bridge_interface: {description: O(network.bridge_interface)., type: str, sample: eth0}
                dhcp_domain: {description: O(network.dhcp_domain)., type: str, sample: novalocal}
            subnets:
              description:
                - The IPv4 subnet with the instance's fixed IP, then an empty IPv6 one (C(cidr) and C(version) null), as
                  FlatDHCP networks had.
              type: list
              elements: dict
              sample: [{cidr: 10.1.0.0/16, version: 4, meta: {dhcp_server: 10.1.0.3}}, {cidr: null, version: null}]
              contains:
                cidr: {description: The subnet (null for the IPv6 one)., type: str, sample: 10.1.0.0/16}
                version: {description: V(4) (null for the IPv6 one)., type: int, sample: 4}
                ips:
                  description: The instance's fixed IP (none in the IPv6 subnet).
                  type: list
                  elements: dict
                  sample: [{address: 10.1.0.2, type: fixed, version: 4, meta: {}, floating_ips: []}]
                  contains:
                    address: {description: The fixed IP., type: str, sample: 10.1.0.2}
                    type: {description: V(fixed)., type: str, sample: fixed}
                    version: {description: V(4)., type: int, sample: 4}
                    floating_ips:
                      description: The floating IPs bound to it (C(type) V(floating)).
                      type: list
                      elements: dict
                      sample: [{address: 192.168.96.129, type: floating, version: 4, meta: {}}]
                      contains:
                        address: {description: The floating IP., type: str, sample: 192.168.96.129}
                gateway:
                  description: The network's gateway (C(type) V(gateway); C(address) null in the IPv6 subnet).
                  type: dict
                  sample: {address: 10.1.0.1, type: gateway, version: 4, meta: {}}
                  contains:
                    address: {description: The gateway's address., type: str, sample: 10.1.0.1}
                dns:
                  description: The network's DNS servers, O(network.dns1) and O(network.dns2) when set.
                  type: list
                  elements: dict
                  sample: [{address: 8.8.4.4, type: dns, version: 4, meta: {}}]
                  contains:
                    address: {description: The DNS server's address., type: str, sample: 8.8.4.4}
                routes: {description: Empty (FlatDHCP had no extra routes)., type: list, elements: str, sample: []}
                meta:
                  description: This host's DHCP address on the network.
                  type: dict
                  sample: {dhcp_server: 10.1.0.3}
                  contains:
                    dhcp_server: {description: The address dnsmasq serves from., type: str, sample: 10.1.0.3}
fixed_ips:
  description: The committed fixed IP of each instance of O(instances), in order (empty unless O(state=present)).
  returned: always
  type: list
  elements: dict
  sample:
    - address: 10.1.0.2
      network_id: e011b388-163b-4080-a083-bb63ebed7f6a
      mac: "fa:16:3e:5a:f4:23"
      vif_id: 99a3c937-1a0f-48f7-8015-166d7644e9a0
      instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0
      instance_name: instance-0000000a
      hostname: vm1
      host: compute1
  contains:
    address:
      description: The fixed IP.
      type: str
      sample: 10.1.0.2
    network_id:
      description: The network's UUID.
      type: str
      sample: e011b388-163b-4080-a083-bb63ebed7f6a
    mac:
      description: The MAC of the instance's VIF.
      type: str
      sample: "fa:16:3e:5a:f4:23"
    vif_id:
      description: The VIF's UUID.
      type: str
      sample: 99a3c937-1a0f-48f7-8015-166d7644e9a0
    instance_uuid:
      description: The instance's UUID.
      type: str
      sample: 90844617-d71f-474f-9cdf-35e244c846b0
    instance_name:
      description: The instance's libvirt name (null when never given).
      type: str
      sample: instance-0000000a
    hostname:
      description: The instance's hostname (its name in the hosts file).
      type: str
      sample: vm1
    host:
      description: This host, as O(host) named it.
      type: str
      sample: compute1
dhcp_server:
  description:
    - This host's DHCP-server address on the network (null once taken down).
    - For a release, that of the released addresses' network (the first, if they span several; null when
      nothing was released).
  returned: always
  type: str
  sample: 10.1.0.3
dnsmasq_pid:
  description: The pid of the network's dnsmasq on this host (null when none runs).
  returned: always
  type: int
  sample: 4242
metadata_pid:
  description: The pid of the network's metadata server on this host (null when none runs or the call did not look).
  returned: always
  type: int
  sample: 4243
floating_ips:
  description: The floating IPs bound to O(instances) on this host after the call (O(state=present)).
  returned: always
  type: list
  elements: dict
  sample: [{address: 192.168.96.129, fixed_ip: 10.1.0.2, instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0,
            network_id: e011b388-163b-4080-a083-bb63ebed7f6a, interface: br100, pool: nova, project_id: default}]
  contains:
    address: {description: The floating IP., type: str, sample: 192.168.96.129}
    fixed_ip: {description: The fixed IP it is bound to., type: str, sample: 10.1.0.2}
    instance_uuid: {description: The instance., type: str, sample: 90844617-d71f-474f-9cdf-35e244c846b0}
    network_id: {description: The fixed IP's network., type: str, sample: e011b388-163b-4080-a083-bb63ebed7f6a}
    interface: {description: The device the address is on., type: str, sample: br100}
    pool: {description: Its pool., type: str, sample: nova}
    project_id: {description: Its project., type: str, sample: default}
released_floating_ips:
  description: The auto-assigned floating IPs a release gave back to their pool.
  returned: always
  type: list
  elements: str
  sample: [192.168.96.129]
released:
  description: The addresses freed, lowest first (O(state=absent) with O(instances)).
  returned: always
  type: list
  elements: str
  sample: [10.1.0.2]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.network.host_request import NOVA_NETWORK_SPEC
from ansible_collections.novalite.compute.plugins.module_utils.network.service import ensure_state

ARGUMENT_SPEC = NOVA_NETWORK_SPEC


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_state)


if __name__ == "__main__":
    main()
