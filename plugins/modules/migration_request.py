#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the work is done by the action plugin plugins/action/migration_request.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: migration_request
short_description: Check a resize, confirm, revert, cold or live migration and choose the target (controller side)
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin), once per play, before any host is touched. Nova's compute api
    (C(nova/compute/api.py) C(resize), C(confirm_resize), C(revert_resize), C(migrate), C(live_migrate)) and the
    scheduler's part of them.
  - Finds the instances of O(project_id) named O(name), C(name-1) ... C(name-N), or with the uuid O(name), in
    every compute host's facts (C(ansible_local.novalite), gathered before).
  - Checks, and refuses naming the cause, before anything changes anywhere. The instance's state (a resize or a
    cold migration needs vm_state active or stopped, a live migration a running active instance; a resized
    instance awaits confirm or revert first). The flavor (a smaller root disk is refused, never shrunk). The
    quota, of only the positive deltas of cores and RAM (Nova's C(_reserve_quota_delta)). The image, which must
    still be in O(catalog) for a move to another host (the target caches its base from it). The target host, by the
    scheduler's filters (enabled, RAM, cores and disk with the allocation ratios, availability zone) and
    O(target_host). A migration never picks the host the instance is on (Nova's C(ignore_hosts)); a resize
    stays on it when it passes the filters (Nova's C(allow_resize_to_same_host)) and else moves.
  - What is already as asked changes nothing and is listed in RV(unchanged) - the flavor it has, the host it is
    on, a confirm or revert with no resize.
  - For a move to another host it gives the target's libvirt URI (O(migration_uri) with the target's
    C(novalite_migration_address)) and the instance's network there - its fixed IPs, MACs and VIF ids as they
    are, and the target's DHCP server on that network. A target that does not serve the network yet gets one
    as M(novalite.compute.ipam_allocate) would (multi_host), reserved in the IPAM ledger in O(state_dir). That
    reservation is the only thing written, and not in check mode.
  - A confirm also finds migration records whose instance was deleted while resized, so their leftovers on the
    source go too.
options:
  operation:
    description: What to do.
    type: str
    choices: [resize, confirm, revert, migrate, live_migrate]
    required: true
  name:
    description: The instance's display name (C(name-1) ... C(name-N) for a batch) or uuid.
    type: str
    required: true
  project_id:
    description: Whose instances.
    type: str
    required: true
  flavor:
    description: The new flavor (O(operation=resize)), by name or flavorid.
    type: str
  flavors:
    description: Extra flavors (the inventory's C(novalite_flavors)).
    type: dict
    default: {}
  quotas:
    description: Quota limits (the inventory's C(novalite_quotas)).
    type: dict
    default: {}
  target_host:
    description: The host to move to; the scheduler's filters still apply to it.
    type: str
  auto_confirm:
    description: Confirm the resize or cold migration at once (the move's RV(moves[].auto_confirm)).
    type: bool
    default: false
  hosts:
    description: The compute hosts; their facts and their compute node facts must have been gathered.
    type: list
    elements: str
    required: true
  catalog:
    description: The image catalog on the controller, to check that a moved instance's images are still there.
    type: path
  security_group_definitions:
    description: The inventory's security group definitions, checked here, defined on a target by the roles.
    type: list
    elements: dict
    default: []
  migration_uri:
    description:
      - The target's libvirt URI as a template with C(%s) for the target's C(novalite_migration_address) (or its
        inventory name), Nova's C([libvirt] live_migration_uri). Needed for a move to another host.
    type: str
  state_dir:
    description: The controller's state directory (the IPAM ledger).
    type: path
    default: ~/.ansible/novalite
  ram_allocation_ratio:
    description: Virtual RAM per physical RAM.
    type: float
    default: 1.5
  cpu_allocation_ratio:
    description: Virtual CPUs per physical CPU.
    type: float
    default: 16.0
  disk_allocation_ratio:
    description: Virtual disk per physical disk.
    type: float
    default: 1.0
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes.controller
"""

EXAMPLES = r"""
- name: Check a resize of web-1 ... web-N to m1.small and choose where each goes
  novalite.compute.migration_request:
    operation: resize
    name: web
    flavor: m1.small
    project_id: default
    hosts: "{{ groups['compute'] }}"
    migration_uri: "qemu+ssh://root@%s/system"
  register: request
"""

RETURN = r"""
operation:
  description: O(operation).
  returned: success
  type: str
  sample: resize
moves:
  description:
    - One entry per instance that moves, in display-name order; the roles read it.
    - For a confirm, an entry without RV(moves[].record) (C(orphan)) cleans up after an instance deleted while resized.
  returned: success
  type: list
  elements: dict
  sample:
    - operation: resize
      uuid: 8383fb3d-7dcf-4203-b639-14c617b55259
      name: instance-00000001
      display_name: web-1
      source: compute1
      target: compute1
      same_host: true
      old_flavor: {name: m1.tiny, memory_mb: 512, vcpus: 1, root_gb: 0}
      new_flavor: {name: m1.small, memory_mb: 2048, vcpus: 1, root_gb: 20}
      power_on: true
      auto_confirm: false
      target_uri: null
      networks: []
  contains:
    operation:
      description: What is done.
      type: str
      sample: migrate
    uuid:
      description: The instance's uuid.
      type: str
      sample: 8383fb3d-7dcf-4203-b639-14c617b55259
    name:
      description: Its libvirt name.
      type: str
      sample: instance-00000001
    display_name:
      description: Its display name.
      type: str
      sample: web-1
    source:
      description: The host it leaves (for a confirm or revert, the host the resize came from).
      type: str
      sample: compute1
    target:
      description: The host it goes to (for a confirm or revert, the host it is on).
      type: str
      sample: compute2
    same_host:
      description: Whether source and target are the same host.
      type: bool
      sample: false
    old_flavor:
      description: The flavor before (every field of an instance record's C(flavor)).
      type: dict
      sample: {name: m1.tiny, memory_mb: 512, vcpus: 1, root_gb: 0}
      contains:
        name: {description: The flavor's name., type: str, sample: m1.tiny}
        memory_mb: {description: RAM in MB., type: int, sample: 512}
        vcpus: {description: Virtual CPUs., type: int, sample: 1}
        root_gb: {description: Root disk size in GB., type: int, sample: 0}
    new_flavor:
      description: The flavor after (every field of an instance record's C(flavor)).
      type: dict
      sample: {name: m1.small, memory_mb: 2048, vcpus: 1, root_gb: 20}
      contains:
        name: {description: The flavor's name., type: str, sample: m1.tiny}
        memory_mb: {description: RAM in MB., type: int, sample: 512}
        vcpus: {description: Virtual CPUs., type: int, sample: 1}
        root_gb: {description: Root disk size in GB., type: int, sample: 0}
    power_on:
      description: Whether the instance runs after the move (it ran before).
      type: bool
      sample: true
    auto_confirm:
      description: Whether the resize or cold migration is confirmed at once (O(auto_confirm)).
      type: bool
      sample: false
    target_uri:
      description: The target's libvirt URI (null on the same host).
      type: str
      sample: "qemu+ssh://root@169.254.7.81/system"
    migration_address:
      description: The target's migration address (null on the same host).
      type: str
      sample: 169.254.7.81
    networks:
      description: The instance's networks for the target (definition, its fixed IPs, the target's DHCP server).
      type: list
      elements: dict
      sample: [{definition: {uuid: e011b388-163b-4080-a083-bb63ebed7f6a, label: private},
                instances: [{instance_uuid: 8383fb3d-7dcf-4203-b639-14c617b55259, address: 10.1.0.2,
                             mac: "fa:16:3e:5a:f4:23"}], dhcp_server: 10.1.0.5}]
      contains:
        definition:
          description: The network definition the source host recorded (the O(novalite.compute.nova_network#module:network) fields).
          type: dict
          sample: {uuid: e011b388-163b-4080-a083-bb63ebed7f6a, label: private}
          contains:
            uuid: {description: The network's uuid., type: str, sample: e011b388-163b-4080-a083-bb63ebed7f6a}
            label: {description: Its label., type: str, sample: private}
        instances:
          description: The instance's fixed IPs in it, for O(novalite.compute.nova_network#module:instances) on the target.
          type: list
          elements: dict
          sample: [{instance_uuid: 8383fb3d-7dcf-4203-b639-14c617b55259, address: 10.1.0.2, mac: "fa:16:3e:5a:f4:23"}]
          contains:
            instance_uuid: {description: The instance's uuid., type: str, sample: 8383fb3d-7dcf-4203-b639-14c617b55259}
            address: {description: Its fixed IP., type: str, sample: 10.1.0.2}
            mac: {description: Its MAC., type: str, sample: "fa:16:3e:5a:f4:23"}
        dhcp_server: {description: The target's DHCP-server address in the network., type: str, sample: 10.1.0.5}
    record:
      description:
        - The instance record as it is now.
        - Every field of an instance record (see C(docs/contracts.md)); the main ones below.
      type: dict
      sample: {uuid: 8383fb3d-7dcf-4203-b639-14c617b55259, vm_state: active}
      contains:
        uuid: {description: The instance's uuid., type: str, sample: 8383fb3d-7dcf-4203-b639-14c617b55259}
        vm_state: {description: Its vm state., type: str, sample: active}
        host: {description: Its host., type: str, sample: compute1}
    final_record:
      description:
        - The record the target keeps after the move (vm_state resized, or active for a live migration).
        - Every field of an instance record (see C(docs/contracts.md)); the main ones below.
      type: dict
      sample: {uuid: 8383fb3d-7dcf-4203-b639-14c617b55259, vm_state: resized, old_host: compute1}
      contains:
        uuid: {description: The instance's uuid., type: str, sample: 8383fb3d-7dcf-4203-b639-14c617b55259}
        vm_state: {description: Its vm state., type: str, sample: resized}
        host: {description: Its host., type: str, sample: compute2}
    confirmed_record:
      description:
        - The record once the resize is confirmed.
        - Every field of an instance record (see C(docs/contracts.md)); the main ones below.
      type: dict
      sample: {uuid: 8383fb3d-7dcf-4203-b639-14c617b55259, vm_state: active}
      contains:
        uuid: {description: The instance's uuid., type: str, sample: 8383fb3d-7dcf-4203-b639-14c617b55259}
        vm_state: {description: Its vm state., type: str, sample: active}
        host: {description: Its host., type: str, sample: compute2}
    reverted_record:
      description:
        - The record as it was before the resize, for a revert.
        - Every field of an instance record (see C(docs/contracts.md)); the main ones below.
      type: dict
      sample: {uuid: 8383fb3d-7dcf-4203-b639-14c617b55259, vm_state: active, host: compute1}
      contains:
        uuid: {description: The instance's uuid., type: str, sample: 8383fb3d-7dcf-4203-b639-14c617b55259}
        vm_state: {description: Its vm state., type: str, sample: active}
        host: {description: Its host., type: str, sample: compute1}
unchanged:
  description: The instances for which there is nothing to do, and why.
  returned: success
  type: list
  elements: dict
  sample: [{display_name: web-2, uuid: 0c3d2f0e-33a4-4a43-9a55-fd5d0d3b7a49, host: compute2,
            reason: has flavor m1.small already}]
  contains:
    display_name: {description: The instance's display name., type: str, sample: web-2}
    uuid: {description: Its uuid., type: str, sample: 0c3d2f0e-33a4-4a43-9a55-fd5d0d3b7a49}
    host: {description: Its host., type: str, sample: compute2}
    reason: {description: Why nothing is done., type: str, sample: has flavor m1.small already}
sources:
  description: The hosts instances leave.
  returned: success
  type: list
  elements: str
  sample: [compute1]
targets:
  description: The hosts instances go to.
  returned: success
  type: list
  elements: str
  sample: [compute2]
hosts_used:
  description: Sources and targets together.
  returned: success
  type: list
  elements: str
  sample: [compute1, compute2]
"""
