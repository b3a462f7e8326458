#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_rebuild
short_description: The two ends of a rebuild of a batch of instances, around a new spawn (Nova's rebuild)
version_added: 0.1.0
description:
  - Nova's rebuild (C(nova/compute/manager.py) C(rebuild_instance)) destroys an instance's domain, keeps its network
    allocation, and spawns it again from the same or another image. Role C(novalite.compute.rebuild) does it with this
    module around the image and spawn steps of a create (M(novalite.compute.image_cache),
    M(novalite.compute.config_drive), M(novalite.compute.libvirt_domain)), so the instance keeps its uuid, name, MAC,
    fixed IP, filters and domain definition, and gets a new disk and config drive.
  - O(state=prepared) checks every instance (vm_state active, stopped or error, no task in progress), records
    task_state C(rebuilding), reads the user data of the old config drive (a rebuild keeps it, as Nova kept the
    instance's user data; read from its Joliet tree) unless O(keep_user_data) is off, destroys the domain and sets its disk,
    kernel, ramdisk and config drive aside in C(<instance dir>/rebuild-aside/) with the old definition and states.
    A failure puts everything back. A batch cut off after this step can be prepared again.
  - O(state=finished) removes what was set aside and records the image of O(instances) (C(image_ref), C(image_name),
    C(kernel_id), C(ramdisk_id)), vm_state active, the power state libvirt reports, no task and a new C(launched_at).
  - O(state=reverted) (a step in between failed) removes the new files, puts the old ones and the old definition
    back, brings the domain back to the condition it was in and the record as it was. An instance that cannot be put
    back is left in vm_state error with the reason, and the call fails.
author:
  - novalite.compute contributors (@novalite)
requirements:
  - libvirt-python (Debian python3-libvirt) on the compute host
options:
  instances:
    description:
      - The instances of this host, each with C(uuid) and the image fields the rebuilt instance gets (C(image_ref),
        C(image_name), C(kernel_id), C(ramdisk_id)), as M(novalite.compute.instance_lookup) returns them for
        O(state=finished).
    type: list
    elements: dict
    required: true
  state:
    description: Which end of the rebuild.
    type: str
    choices: [prepared, finished, reverted]
    required: true
  keep_user_data:
    description: With O(state=prepared), read the user data of the old config drives and return it (RV(user_data)).
    type: bool
    default: true
extends_documentation_fragment:
  - novalite.compute.attributes
  - novalite.compute.instance_host
"""

EXAMPLES = r"""
- name: Destroy the domains and set their disks and config drives aside
  novalite.compute.instance_rebuild:
    instances: "{{ batch }}"
    state: prepared
  register: prepared
"""

RETURN = r"""
instances:
  description: One entry per instance, in the order of O(instances).
  type: list
  elements: dict
  returned: success
  sample:
    - uuid: 8383fb3d-7dcf-4203-b639-14c617b55259
      name: instance-00000001
      display_name: web-1
      host: compute1
      vm_state_before: active
      libvirt_before: up
  contains:
    uuid:
      description: The instance's uuid.
      type: str
      sample: 8383fb3d-7dcf-4203-b639-14c617b55259
    vm_state_before:
      description: With O(state=prepared), its vm_state before the rebuild (a stopped one is stopped again after).
      type: str
      sample: active
    libvirt_before:
      description: With O(state=prepared), its domain's condition before the rebuild.
      type: str
      sample: up
    vm_state:
      description: With O(state=finished), its vm_state after the rebuild.
      type: str
      sample: active
    power_state:
      description: With O(state=finished), its power state after the rebuild.
      type: int
      sample: 1
    image_name:
      description: With O(state=finished), the image it was rebuilt from.
      type: str
      sample: novalite-test-image
    changed:
      description: With O(state=finished), whether its record changed.
      type: bool
      sample: true
user_data:
  description: With O(state=prepared) and O(keep_user_data), the user data of the old config drives (null when none).
  type: str
  returned: success
  sample: "#!/bin/sh\necho hello\n"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_actions import HOST_OPTIONS
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.virt.rebuild import ensure_rebuild

ARGUMENT_SPEC = {
    "instances": {"type": "list", "elements": "dict", "required": True},
    "state": {"type": "str", "required": True, "choices": ["prepared", "finished", "reverted"]},
    "keep_user_data": {"type": "bool", "default": True},
}
ARGUMENT_SPEC.update(HOST_OPTIONS)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_rebuild)


if __name__ == "__main__":
    main()
