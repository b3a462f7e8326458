#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: floating_ip
short_description: Keep, bind and unbind floating IPs on a compute host (nova-network)
version_added: 0.1.0
description:
  - Does on one compute host, for a whole batch in one call, what nova-network's network manager did for
    floating IPs (C(nova/network/floating_ips.py), C(nova/network/linux_net.py)) - as planned on the
    controller by M(novalite.compute.floating_ip_request).
  - The host keeps the addresses of O(allocate) in its facts (section C(floating_ips)) and forgets those of
    O(release) (refused while one is associated here). It binds O(associate) to the fixed IP of one of its
    own instances (section C(floating_associations)) and unbinds O(disassociate).
  - "For each binding (C(ensure_floating_forward), C(bind_floating_ip)): the DNAT of the floating IP to the
    fixed IP in C(nova-network-PREROUTING) and C(nova-network-OUTPUT), its SNAT in C(nova-network-float-snat)
    (C(-d <fixed>) and C(-o <interface>)) and C(nova-network-POSTROUTING) (DNATed traffic), C(ip addr add
    <floating>/32 dev <interface>) and a gratuitous ARP (C(arping -U -A -I <interface> -c 3)). Unbinding removes
    them and runs C(conntrack -D -r <fixed>). The interface is the pool's, else the public interface this
    host recorded for the instance's network (M(novalite.compute.nova_network))."
  - The rules are those of the host's whole recorded state (every network and floating IP), written with one
    C(iptables-restore) per changed table under the lock C(nova-iptables).
  - The instances' C(network_info) in their records shows their floating IPs (the info cache Nova's network
    API refreshed), in each fixed IP's C(floating_ips).
  - Everything is checked against this host's facts before anything changes - an address allocated here to
    another project, one in a fixed range or already an address of this host, a fixed IP that is not this
    instance's, an instance of another project, a missing interface. A failure undoes what was applied.
options:
  allocate:
    description: Addresses this host keeps from now on.
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
        description: Given on create (released with the instance).
        type: bool
        default: false
      interface:
        description: The pool's interface.
        type: str
      instance_uuid:
        description: For an auto-assigned address, its instance.
        type: str
  release:
    description: Addresses this host no longer keeps.
    type: list
    elements: str
    default: []
  associate:
    description: Bindings to make on this host.
    type: list
    elements: dict
    default: []
    suboptions:
      address:
        description: The floating IP (kept here, in O(allocate), or in O(kept_elsewhere)).
        type: str
        required: true
      instance_uuid:
        description: The instance (on this host).
        type: str
        required: true
      fixed_ip:
        description: Its fixed IP (default its only one).
        type: str
      interface:
        description: The device to put the address on (default the pool's, then the public interface).
        type: str
  disassociate:
    description: Floating IPs to unbind here.
    type: list
    elements: str
    default: []
  kept_elsewhere:
    description: The rows of addresses in O(associate) that another host keeps (as the controller read them).
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
        description: Its project.
        type: str
        required: true
      auto_assigned:
        description: Given on create.
        type: bool
        default: false
      interface:
        description: The pool's interface.
        type: str
      instance_uuid:
        description: For an auto-assigned address, its instance.
        type: str
  facts_path:
    description: The host's facts document.
    type: path
    default: /etc/ansible/facts.d/novalite.fact
  locks_path:
    description: Directory of external locks (C(nova-iptables)).
    type: path
    default: /var/lib/novalite/locks
notes:
  - Needs root, iproute2 and iptables; arping (iputils) and conntrack are used when installed.
seealso:
  - module: novalite.compute.floating_ip_request
  - module: novalite.compute.nova_network
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes
"""

EXAMPLES = r"""
- name: Bind 192.168.96.129 to the instance's fixed IP (kept here)
  novalite.compute.floating_ip:
    allocate:
      - {address: 192.168.96.129, pool: nova, project_id: default}
    associate:
      - {address: 192.168.96.129, instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0}

- name: Apply what floating_ip_request planned for this host
  novalite.compute.floating_ip:
    allocate: "{{ plan.allocate }}"
    release: "{{ plan.release }}"
    associate: "{{ plan.associate }}"
    disassociate: "{{ plan.disassociate }}"
    kept_elsewhere: "{{ plan.kept_elsewhere }}"
  vars:
    plan: "{{ floating.by_host[inventory_hostname] }}"
  when: inventory_hostname in floating.by_host
"""

RETURN = r"""
floating_ips:
  description: The addresses this host keeps, after the call.
  returned: always
  type: list
  elements: dict
  sample: [{address: 192.168.96.129, pool: nova, project_id: default, auto_assigned: false, interface: null,
            instance_uuid: null}]
  contains:
    address: {description: The floating IP., type: str, sample: 192.168.96.129}
    pool: {description: Its pool., type: str, sample: nova}
    project_id: {description: Its project., type: str, sample: default}
    auto_assigned: {description: Given on create., type: bool, sample: false}
    interface: {description: The pool's interface (or null)., type: str, sample: null}
    instance_uuid: {description: 'For an auto-assigned one, its instance.', type: str, sample: null}
associations:
  description: The floating IPs bound on this host, after the call.
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
associated:
  description: The bindings this call made (same fields as RV(associations)).
  returned: always
  type: list
  elements: dict
  sample: []
  contains:
    address: {description: The floating IP., type: str, sample: 192.168.96.129}
    fixed_ip: {description: The fixed IP it is bound to., type: str, sample: 10.1.0.2}
    instance_uuid: {description: The instance., type: str, sample: 90844617-d71f-474f-9cdf-35e244c846b0}
    network_id: {description: The fixed IP's network., type: str, sample: e011b388-163b-4080-a083-bb63ebed7f6a}
    interface: {description: The device the address is on., type: str, sample: br100}
    pool: {description: Its pool., type: str, sample: nova}
    project_id: {description: Its project., type: str, sample: default}
disassociated:
  description: The bindings this call undid (same fields as RV(associations)).
  returned: always
  type: list
  elements: dict
  sample: []
  contains:
    address: {description: The floating IP., type: str, sample: 192.168.96.129}
    fixed_ip: {description: The fixed IP it is bound to., type: str, sample: 10.1.0.2}
    instance_uuid: {description: The instance., type: str, sample: 90844617-d71f-474f-9cdf-35e244c846b0}
    network_id: {description: The fixed IP's network., type: str, sample: e011b388-163b-4080-a083-bb63ebed7f6a}
    interface: {description: The device the address is on., type: str, sample: br100}
    pool: {description: Its pool., type: str, sample: nova}
    project_id: {description: Its project., type: str, sample: default}
changed_fixed_ips:
  description: The fixed IPs whose floating IPs changed.
  returned: always
  type: list
  elements: str
  sample: [10.1.0.2]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.network.floating_service import (
    FLOATING_IP_SPEC, ensure_floating_ips)

ARGUMENT_SPEC = FLOATING_IP_SPEC


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_floating_ips)


if __name__ == "__main__":
    main()
