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
    (C(/etc/ansible/facts.d/novalite.fact), read back as C(ansible_local.novalite)), under the facts
    lock, and moves them through Nova's vm states.
  - C(building) records the instances on this host (Nova's C(_start_building)); C(active) sets power
    state running, the network info and C(launched_at) (once); C(error) keeps a fault message;
    C(absent) removes the records (the delete flow, or a rollback).
  - An active instance never goes back to building, so re-running a create changes nothing.
options:
  instances:
    description:
      - Instance records (as from M(novalite.compute.instance_request)); only C(uuid) is needed for
        I(vm_state=active), C(error) and C(absent).
    type: list
    elements: dict
    required: true
  vm_state:
    description: The state to move the instances to.
    type: str
    choices: [building, active, error, absent]
    required: true
  host:
    description: This compute host's name in the inventory, recorded as the instances' C(host).
    type: str
  network_info:
    description: Network info (a list of VIFs) per instance uuid, stored with I(vm_state=active).
    type: dict
    default: {}
  fault:
    description: Why the instances failed, stored with I(vm_state=error).
    type: str
  facts_path:
    description: The host's facts document.
    type: path
    default: /etc/ansible/facts.d/novalite.fact
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
"""

RETURN = r"""
instances:
  description: The stored records (an empty list for I(vm_state=absent)).
  type: list
  elements: dict
  returned: success
"""

import datetime

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import DEFAULT_FACTS_PATH
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import transition

ARGUMENT_SPEC = {
    "instances": {"type": "list", "elements": "dict", "required": True},
    "vm_state": {"type": "str", "required": True, "choices": ["building", "active", "error", "absent"]},
    "host": {"type": "str"},
    "network_info": {"type": "dict", "default": {}},
    "fault": {"type": "str"},
    "facts_path": {"type": "path", "default": DEFAULT_FACTS_PATH},
}


def validate(params):
    for index, record in enumerate(params["instances"]):
        if not record.get("uuid"):
            raise InvalidInput("instances[%d] has no uuid" % index)
        if params["vm_state"] == "building" and not (record.get("name") and record.get("flavor")):
            raise InvalidInput("instances[%d] (%s): a building record needs the whole record (name, flavor, ...)"
                               % (index, record["uuid"]))
    if params["vm_state"] == "building" and not params["host"]:
        raise InvalidInput("host is required with vm_state=building")


def ensure_records(module):
    params = module.params
    validate(params)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with FactsStore(params["facts_path"]).transaction(write=not module.check_mode) as facts:
        stored = facts.document["instances"]
        for wanted in params["instances"]:
            uuid = wanted["uuid"]
            if params["vm_state"] == "absent":
                stored.pop(uuid, None)
                continue
            if uuid not in stored and params["vm_state"] != "building":
                raise InvalidInput("instance %s is not recorded on this host" % uuid)
            stored[uuid] = transition(stored.get(uuid), dict(wanted, host=params["host"]), params["vm_state"], now,
                                      network_info=params["network_info"].get(uuid), fault=params["fault"])
    uuids = [w["uuid"] for w in params["instances"]]
    before = {u: facts.before["instances"][u] for u in uuids if u in facts.before["instances"]}
    after = {u: facts.document["instances"][u] for u in uuids if u in facts.document["instances"]}
    return {"changed": facts.changed, "instances": list(after.values()), "diff": {"before": before, "after": after}}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_records)


if __name__ == "__main__":
    main()
