#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: config_drive
short_description: Build instances' config drives (cloud-init compatible, label config-2)
version_added: 0.1.0
description:
  - For each instance with C(config_drive) true, writes C(<instances_path>/<name>/disk.config), an
    ISO 9660 volume labelled C(config-2) with C(openstack/latest/meta_data.json) (uuid, name, hostname,
    public_keys, admin_pass, meta, files), C(openstack/latest/user_data), C(network_data.json) and injected files,
    made with the genisoimage options Nova used (C(nova/virt/configdrive.py)).
  - A config drive that exists is never rebuilt (Nova builds it once, at spawn); O(state=absent)
    removes it.
  - Handles a whole batch of instances in one call. Every record is checked before anything is
    written; if building or removing one drive fails, the drives this call built are removed and
    the ones it removed are put back, and the failure names the step (RV(ignore:failed_step),
    RV(ignore:rolled_back)).
options:
  instances:
    description:
      - Instance records; C(uuid), C(name) (the C(instance-%08x) name), C(display_name) and C(hostname)
        are required, C(metadata), C(key_data), C(availability_zone), C(config_drive) and C(network_info)
        are used when present.
      - Only instances whose C(config_drive) is true get a drive.
    type: list
    elements: dict
    required: true
  user_data:
    description: User data text for every instance of the batch (C(openstack/latest/user_data)).
    type: str
  admin_password:
    description: Administrator password for every instance of the batch (in C(meta_data.json) as C(admin_pass)).
    type: str
  injected_files:
    description: Files for the guests, under C(openstack/content/) and listed in C(meta_data.json).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Path in the guest.
        type: str
        required: true
      contents:
        description: File contents.
        type: str
        required: true
  instances_path:
    description: Where instance directories live.
    type: path
    default: /var/lib/novalite/instances
  state:
    description:
      - V(present) builds the missing drives of the instances that want one, and removes the drives of
        those that do not; V(absent) removes every drive of the batch.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - genisoimage, mkisofs or xorrisofs on the compute host
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes
"""

EXAMPLES = r"""
- name: Build config drives for this host's new instances
  novalite.compute.config_drive:
    instances: "{{ my_instances | novalite.compute.specs_for('config_drive') }}"
    user_data: "{{ user_data | default(omit) }}"
    admin_password: "{{ admin_password | default(omit) }}"

- name: Remove them (a rollback)
  novalite.compute.config_drive:
    instances: "{{ my_instances | novalite.compute.specs_for('config_drive') }}"
    state: absent
"""

RETURN = r"""
config_drives:
  description: Path of each instance's config drive after the call, by uuid (null when it has none).
  type: dict
  returned: success
  sample:
    8383fb3d-7dcf-4203-b639-14c617b55259: /var/lib/novalite/instances/instance-00000001/disk.config
    0d4a4b7e-5c57-4c2a-9f51-2e0f3f1f6a52: null
  contains:
    <uuid>:
      description: The config drive's path (C(<instances_path>/<name>/disk.config)), or null.
      type: str
      sample: /var/lib/novalite/instances/instance-00000001/disk.config
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import DEFAULT_INSTANCES_PATH
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.compute.config_drive import ensure_config_drives

ARGUMENT_SPEC = {
    "instances": {"type": "list", "elements": "dict", "required": True},
    "user_data": {"type": "str", "no_log": True},
    "admin_password": {"type": "str", "no_log": True},
    "injected_files": {"type": "list", "elements": "dict", "default": [], "no_log": True,
                       "options": {"path": {"type": "str", "required": True},
                                   "contents": {"type": "str", "required": True}}},
    "instances_path": {"type": "path", "default": DEFAULT_INSTANCES_PATH},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_config_drives)


if __name__ == "__main__":
    main()
