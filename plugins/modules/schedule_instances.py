#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: schedule_instances
short_description: Choose a compute host for each instance (Nova's filter scheduler)
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin); run it once per play, delegated to localhost.
  - As Nova's C(nova/scheduler/filter_scheduler.py), filters the compute hosts (enabled, target host,
    availability zone, RAM and vcpus with allocation ratios, disk, image properties), weighs the rest by
    free RAM and takes the best; every placement is counted before the next, so a batch spreads across hosts.
  - Reads each host's C(ansible_facts.novalite_compute_node) (set by M(novalite.compute.compute_node_facts))
    and the host variables C(novalite_compute_enabled) (default V(true)) and C(novalite_availability_zone)
    (default V(nova)).
  - Instances of a server group (C(server_group) and C(server_group_policy) in their records, set by
    M(novalite.compute.instance_request)) are kept apart (V(anti-affinity), ServerGroupAntiAffinityFilter) or together
    (V(affinity), ServerGroupAffinityFilter). The group's hosts are those of its members on every host of O(hosts)
    and those chosen earlier in the same call (Nova's C(group_hosts)).
  - Instances that already have a host keep it.
  - Fails, naming every host and why it was refused, when no host fits.
options:
  instances:
    description: Instance records (as returned by M(novalite.compute.instance_request)).
    type: list
    elements: dict
    required: true
  hosts:
    description: The compute hosts to choose from.
    type: list
    elements: str
    required: true
  image_properties:
    description: The image's properties, for the image properties filter (C(architecture), C(hypervisor_type)).
    type: dict
    default: {}
  ram_allocation_ratio:
    description: Virtual RAM per physical RAM (Nova's default 1.5).
    type: float
    default: 1.5
  cpu_allocation_ratio:
    description: Virtual CPUs per physical CPU (Nova's default 16.0).
    type: float
    default: 16.0
  disk_allocation_ratio:
    description: Virtual disk per physical disk.
    type: float
    default: 1.0
  ignore_hosts:
    description:
      - Hosts never to choose (Nova's C(ignore_hosts) filter property, as a resize to another host or a migration
        sets it to the instance's own host). A refusal names them in the rejections.
    type: list
    elements: str
    default: []
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes.controller
"""

EXAMPLES = r"""
- name: Choose a compute host for each new instance
  novalite.compute.schedule_instances:
    instances: "{{ request.instances }}"
    hosts: "{{ groups['compute'] }}"
    image_properties: "{{ request.image.properties }}"
  run_once: true
  delegate_to: localhost
  register: scheduled
"""

RETURN = r"""
instances:
  description: The instance records of O(instances), in their order, each with C(host) set.
  type: list
  elements: dict
  returned: success
  sample:
    - uuid: 8383fb3d-7dcf-4203-b639-14c617b55259
      name: instance-00000001
      host: compute1
  contains:
    uuid:
      description: The instance's uuid.
      type: str
      sample: 8383fb3d-7dcf-4203-b639-14c617b55259
    host:
      description: The compute host chosen now, or the one it already had.
      type: str
      sample: compute1
placements:
  description: Host chosen for each newly placed instance, by uuid.
  type: dict
  returned: success
  sample: {8383fb3d-7dcf-4203-b639-14c617b55259: compute1}
  contains:
    <uuid>:
      description: The compute host chosen for the instance with this uuid.
      type: str
      sample: compute1
hosts_used:
  description: Names of the hosts that have at least one of the instances.
  type: list
  elements: str
  returned: success
  sample: [compute1, compute2]
"""
