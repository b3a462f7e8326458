#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the work is done by the action plugin plugins/action/floating_ip_request.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: floating_ip_request
short_description: Plan floating IP allocate, associate, disassociate or release for a batch (controller side)
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin); run it once per play, delegated to localhost.
  - Does the network API half of nova-network's floating IPs (C(nova/network/floating_ips.py)) - checks the
    request, and says per compute host (RV(by_host)) what M(novalite.compute.floating_ip) does there in one call.
  - Nova's C(floating_ips) table is the union of every compute host's facts - the addresses each host keeps
    (C(floating_ips), an allocated address stays with its keeper, associated or not) and the addresses bound on
    it (C(floating_associations)). Allocations take the lowest free address of the pool from that union and
    from the controller's ledger (C(<state_dir>/ipam.json), kind C(floating_ips)), under the ledger's
    exclusive lock, and are reserved there, so two plays started at the same moment never hand out one
    address twice. The hosts re-check every change against their own facts before they commit it.
  - V(allocate) takes one address (or O(address)) of O(pool) for O(project_id), counted against the quota
    C(floating_ips) of O(quotas), kept by O(keeper).
  - V(associate) binds O(address) (allocated to the project) to the instance O(vm_name); a previous binding
    of that address is undone first, as Nova did. Without O(address), every instance of the batch
    (O(vm_name), O(vm_name)-1 ... -N) that has no floating IP gets a new one, kept by its own host.
  - V(disassociate) unbinds O(address), or every floating IP of the instances O(vm_name); the addresses stay
    allocated to the project.
  - V(release) gives O(address) back to the pool, refused while it is associated (Nova's
    C(FloatingIpAssociated)); with O(vm_name) the instances' floating IPs are disassociated and released.
  - Refused before anything is reserved - an unknown action, pool or instance, a bad address or range, a range
    overlapping another or a network's fixed range, an address of another project, an exhausted pool or quota.
  - Check mode computes the same plan and reserves nothing.
options:
  action:
    description: What to do.
    type: str
    required: true
    choices: [allocate, associate, disassociate, release]
  vm_name:
    description: The instance's display name or uuid, or the name of a batch (V(web) for V(web-1) ... V(web-N)).
    type: str
  address:
    description: A floating IP (for V(allocate) a specific free one of the pool).
    type: str
  pool:
    description: The pool to allocate from (Nova's C(default_floating_pool)).
    type: str
    default: nova
  project_id:
    description: The project that owns the addresses and the instances.
    type: str
    required: true
  keeper:
    description: The compute host that keeps an address allocated with V(allocate) (default the first of O(hosts)).
    type: str
  networks:
    description:
      - Network definitions by label (the inventory's C(novalite_networks)) whose fixed ranges no floating range may
        overlap, besides those the hosts recorded.
    type: dict
    default: {}
  quotas:
    description:
      - Quota limits (the inventory's C(novalite_quotas)); C(floating_ips) (default V(10), Nova's
        C(quota_floating_ips)) is how many floating IPs a project may hold, auto-assigned ones not counted,
        V(-1) unlimited.
    type: dict
    default: {}
  hosts:
    description: The compute hosts whose facts are read (gather them first).
    type: list
    elements: str
    required: true
  state_dir:
    description: Controller directory of the ledger and its lock.
    type: path
    default: ~/.ansible/novalite
  ledger_ttl:
    description: Seconds a reservation lasts.
    type: int
    default: 3600
seealso:
  - module: novalite.compute.floating_ip
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.floating
  - novalite.compute.attributes.controller
"""

EXAMPLES = r"""
- name: Plan a floating IP for each instance of the batch web-1 .. web-3
  novalite.compute.floating_ip_request:
    action: associate
    vm_name: web
    project_id: default
    floating_ranges: [{pool: nova, range: 192.168.96.128/28}]
    hosts: "{{ groups['compute'] }}"
  run_once: true
  delegate_to: localhost
  register: floating

- name: Apply it on each host
  novalite.compute.floating_ip: "{{ floating.by_host[inventory_hostname] }}"
  when: inventory_hostname in floating.by_host
"""

RETURN = r"""
by_host:
  description: Per compute host, the options of its M(novalite.compute.floating_ip) call.
  returned: always
  type: dict
  sample:
    compute1:
      allocate: [{address: 192.168.96.129, pool: nova, project_id: default, auto_assigned: false,
                  interface: null, instance_uuid: null}]
      associate: [{address: 192.168.96.129, instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0,
                   fixed_ip: 10.1.0.2}]
      disassociate: []
      release: []
      kept_elsewhere: []
  contains:
    <host>:
      description: The host's options for M(novalite.compute.floating_ip).
      type: dict
      sample: {allocate: [], release: [], associate: [], disassociate: [], kept_elsewhere: []}
      contains:
        allocate:
          description: The addresses the host starts keeping (O(novalite.compute.floating_ip#module:allocate)).
          type: list
          elements: dict
          sample: [{address: 192.168.96.129, pool: nova, project_id: default, auto_assigned: false,
                    interface: null, instance_uuid: null}]
          contains:
            address: {description: The floating IP., type: str, sample: 192.168.96.129}
            pool: {description: Its pool., type: str, sample: nova}
            project_id: {description: The project it is allocated to., type: str, sample: default}
            auto_assigned: {description: Given on create., type: bool, sample: false}
            interface: {description: The pool's interface (or null)., type: str, sample: null}
            instance_uuid: {description: 'For an auto-assigned one, its instance.', type: str, sample: null}
        release:
          description: The addresses the host stops keeping (O(novalite.compute.floating_ip#module:release)).
          type: list
          elements: str
          sample: []
        associate:
          description: The bindings to make (O(novalite.compute.floating_ip#module:associate)).
          type: list
          elements: dict
          sample: [{address: 192.168.96.129, instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0, fixed_ip: 10.1.0.2}]
          contains:
            address: {description: The floating IP., type: str, sample: 192.168.96.129}
            instance_uuid: {description: The instance., type: str, sample: 90844617-d71f-474f-9cdf-35e244c846b0}
            fixed_ip: {description: Its fixed IP., type: str, sample: 10.1.0.2}
        disassociate:
          description: The bindings to undo (O(novalite.compute.floating_ip#module:disassociate)).
          type: list
          elements: str
          sample: []
        kept_elsewhere:
          description: The floating IPs other hosts keep (O(novalite.compute.floating_ip#module:kept_elsewhere)).
          type: list
          elements: dict
          sample: []
          contains:
            address: {description: The floating IP., type: str, sample: 192.168.96.129}
            pool: {description: Its pool., type: str, sample: nova}
            project_id: {description: The project it is allocated to., type: str, sample: default}
            auto_assigned: {description: Given on create., type: bool, sample: false}
            interface: {description: The pool's interface (or null)., type: str, sample: null}
            instance_uuid: {description: 'For an auto-assigned one, its instance.', type: str, sample: null}
floating_ips:
  description: The addresses this call touches, as they are after it.
  returned: always
  type: list
  elements: dict
  sample:
    - {address: 192.168.96.129, pool: nova, project_id: default, keeper: compute1, allocated: true,
       auto_assigned: false, instance: web-1, instance_uuid: 90844617-d71f-474f-9cdf-35e244c846b0,
       fixed_ip: 10.1.0.2, host: compute1}
  contains:
    address: {description: The floating IP., type: str, sample: 192.168.96.129}
    pool: {description: Its pool., type: str, sample: nova}
    project_id: {description: The project it is allocated to., type: str, sample: default}
    keeper: {description: The host whose facts keep it (null once released)., type: str, sample: compute1}
    allocated: {description: Whether it is still allocated., type: bool, sample: true}
    auto_assigned: {description: Whether it was given on create., type: bool, sample: false}
    instance: {description: The display name of the instance it is associated with (or null)., type: str, sample: web-1}
    instance_uuid: {description: That instance's UUID (or null)., type: str, sample: 90844617-d71f-474f-9cdf-35e244c846b0}
    fixed_ip: {description: The fixed IP it is bound to (or null)., type: str, sample: 10.1.0.2}
    host: {description: The host it is bound on (or null)., type: str, sample: compute1}
"""
