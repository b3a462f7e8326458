#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_record
short_description: Keep instance records in a compute host's facts (Nova's instances table)
version_added: 0.1.0
description:
  - Writes a batch of instance records into the C(instances) section of the host's facts document
    (O(facts_path), read back by M(ansible.builtin.setup) as C(ansible_local.novalite)), under the
    facts lock, and moves them through Nova's vm states (C(nova/compute/vm_states.py)).
  - V(building) records the instances on this host (Nova's C(_start_building)); V(active) sets power
    state running, the network info and C(launched_at) (once); V(error) keeps a fault message;
    V(absent) removes the records (the delete flow, or a rollback); V(resized) is a resize or cold migration
    that awaits confirm or revert (Nova's C(RESIZED)).
  - An active instance never goes back to building, and a resized one is left as it is by V(building) and
    V(active), so re-running a create changes nothing; only O(replace) ends a resize.
  - O(replace) stores each record whole, as given, on this host (a migration moves a record to its new host,
    a confirm or revert ends a resize); C(old_flavor) and C(old_host) stay only with O(vm_state=resized).
  - Every record is checked before the document is touched (uuid; for V(building) also the
    instance name and display name, with the rules the request step applies).
options:
  instances:
    description:
      - Instance records (as from M(novalite.compute.instance_request)); only C(uuid) is needed for
        O(vm_state=active), O(vm_state=error) and O(vm_state=absent).
      - With O(vm_state=building) each record is stored whole and needs at least C(uuid), C(name)
        (the C(instance-%08x) name) and C(flavor).
    type: list
    elements: dict
    required: true
  vm_state:
    description: The state to move the instances to.
    type: str
    choices: [building, active, error, resized, absent]
    required: true
  host:
    description:
      - This compute host's name in the inventory, recorded as the instances' C(host).
      - Required with O(vm_state=building).
    type: str
  network_info:
    description: Network info (a list of VIFs) per instance uuid, stored with O(vm_state=active).
    type: dict
    default: {}
  fault:
    description: Why the instances failed, stored with O(vm_state=error).
    type: str
  facts_path:
    description: The host's facts document.
    type: path
    default: /etc/ansible/facts.d/novalite.fact
  local_facts:
    description:
      - Also set C(ansible_local.novalite) to the facts document as this call leaves it (in check mode, as it is
        on the host), as M(ansible.builtin.setup) with O(ansible.builtin.setup#module:gather_subset) V(local)
        would read it next, so that the play needs no call to refresh it. Local facts of other files are left out.
    type: bool
    default: false
  replace:
    description:
      - Store each record of O(instances) whole, as given, with O(vm_state) and O(host), replacing what this host
        has for its uuid (if anything). Each record must be whole, as for V(building). Needs O(host) and a
        O(vm_state) other than V(absent).
      - For a migration (the record moves to its new host), and to end a resize (confirm or revert).
    type: bool
    default: false
  assume_prepared:
    description:
      - Only in check mode, for a check of a whole run. With O(vm_state=active) or O(vm_state=error), an instance
        that is not recorded is taken as recorded by the V(building) call before it (which recorded nothing,
        being in check mode too). Its whole record must be given, as for V(building).
      - Outside check mode it has no effect; an instance that is not recorded fails the call.
    type: bool
    default: false
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes
"""

EXAMPLES = r"""
- name: Record the new instances on this host
  novalite.compute.instance_record:
    instances: "{{ scheduled.instances | selectattr('host', 'equalto', inventory_hostname) }}"
    vm_state: building
    host: "{{ inventory_hostname }}"

- name: Mark them active
  novalite.compute.instance_record:
    instances: "{{ scheduled.instances | selectattr('host', 'equalto', inventory_hostname) }}"
    vm_state: active
    network_info: "{{ network.network_info }}"
    local_facts: true  # ansible_local.novalite is the document as this call left it
"""

RETURN = r"""
instances:
  description: The stored records of the batch (an empty list for O(vm_state=absent)).
  type: list
  elements: dict
  returned: success
  sample:
    - uuid: 8383fb3d-7dcf-4203-b639-14c617b55259
      name: instance-00000001
      display_name: web-1
      host: compute1
      vm_state: active
      power_state: 1
      task_state: null
      launched_at: "2024-05-01T10:00:00Z"
  contains:
    uuid:
      description: The instance's uuid.
      type: str
      sample: 8383fb3d-7dcf-4203-b639-14c617b55259
    name:
      description: Its libvirt name, also its directory's name under the instances path.
      type: str
      sample: instance-00000001
    display_name:
      description: The name the user gave it.
      type: str
      sample: web-1
    host:
      description: The compute host it is on.
      type: str
      sample: compute1
    vm_state:
      description: Nova's vm state.
      type: str
      sample: active
    power_state:
      description: Nova's power state (V(0) no state, V(1) running).
      type: int
      sample: 1
    task_state:
      description: Nova's task state (V(spawning) while building, null once active or in error).
      type: str
      sample: null
    old_flavor:
      description: The flavor before the resize (with O(vm_state=resized) only).
      type: dict
      sample: {name: m1.tiny, memory_mb: 512, vcpus: 1, root_gb: 0}
      contains:
        name: {description: The flavor's name., type: str, sample: m1.tiny}
        memory_mb: {description: RAM in MB., type: int, sample: 512}
        vcpus: {description: Virtual CPUs., type: int, sample: 1}
        root_gb: {description: Root disk size (V(0) keeps the image's size)., type: int, sample: 0}
    old_host:
      description: The host before the resize or cold migration (with O(vm_state=resized) only).
      type: str
      sample: compute1
    launched_at:
      description: When it first became active (UTC).
      type: str
      sample: "2024-05-01T10:00:00Z"
    network_info:
      description:
        - Its VIFs, as stored with O(vm_state=active), in the shape of
          RV(novalite.compute.nova_network#module:network_info) (see C(docs/contracts.md)).
      type: list
      elements: dict
      sample: [{id: 99a3c937-1a0f-48f7-8015-166d7644e9a0, address: "fa:16:3e:5a:f4:23", meta: {},
                network: {id: e011b388-163b-4080-a083-bb63ebed7f6a, label: private, bridge: br100}}]
      contains:
        id: {description: The VIF's UUID., type: str, sample: 99a3c937-1a0f-48f7-8015-166d7644e9a0}
        address: {description: The VIF's MAC., type: str, sample: "fa:16:3e:5a:f4:23"}
        network:
          description: The network, with its C(subnets) and their fixed and floating IPs.
          type: dict
          sample: {id: e011b388-163b-4080-a083-bb63ebed7f6a, label: private, bridge: br100}
          contains:
            id: {description: The network's UUID., type: str, sample: e011b388-163b-4080-a083-bb63ebed7f6a}
            label: {description: Its label., type: str, sample: private}
            bridge: {description: Its bridge., type: str, sample: br100}
    fault:
      description: Why it failed (with O(vm_state=error) only).
      type: str
      sample: "spawn: domain instance-00000001 did not start"
ansible_facts:
  description:
    - With O(local_facts), C(ansible_local.novalite), the facts document as this call left it, in the shape of
      RV(novalite.compute.compute_node_facts#module:ansible_facts.ansible_local).
  type: dict
  returned: when O(local_facts) is true
  sample: {ansible_local: {novalite: {schema_version: 1, instances: {}, networks: {}, fixed_ips: {}}}}
  contains:
    ansible_local:
      description: C(novalite), the document.
      type: dict
      sample: {novalite: {schema_version: 1, instances: {}, networks: {}, fixed_ips: {}}}
      contains:
        novalite: {description: The facts document (its sections are in docs/contracts.md)., type: dict,
                   sample: {schema_version: 1, instances: {}}, contains: {schema_version: {description: Its version.,
                   type: int, sample: 1}}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import DEFAULT_FACTS_PATH
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import ensure_records

ARGUMENT_SPEC = {
    "instances": {"type": "list", "elements": "dict", "required": True},
    "vm_state": {"type": "str", "required": True, "choices": ["building", "active", "error", "resized", "absent"]},
    "host": {"type": "str"},
    "network_info": {"type": "dict", "default": {}},
    "fault": {"type": "str"},
    "facts_path": {"type": "path", "default": DEFAULT_FACTS_PATH},
    "replace": {"type": "bool", "default": False},
    "local_facts": {"type": "bool", "default": False},
    "assume_prepared": {"type": "bool", "default": False},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_records)


if __name__ == "__main__":
    main()
