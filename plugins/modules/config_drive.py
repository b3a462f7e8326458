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
    public_keys, admin_pass, meta, files), C(user_data), C(network_data.json) and injected files,
    made with the genisoimage options Nova used.
  - A config drive that exists is never rebuilt (Nova builds it once, at spawn); I(state=absent)
    removes it.
  - Handles a whole batch of instances in one call.
options:
  instances:
    description:
      - Instance records (uuid, name, display_name, hostname, metadata, key_data, availability_zone,
        config_drive and network_info are used).
    type: list
    elements: dict
    required: true
  user_data:
    description: User data text for every instance of the batch.
    type: str
  admin_password:
    description: Administrator password for every instance of the batch (in meta_data.json as C(admin_pass)).
    type: str
  injected_files:
    description: Files for the guests, under C(openstack/content/) and listed in meta_data.json.
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
    description: Whether the config drives should exist.
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
    instances: "{{ my_instances }}"
    user_data: "{{ user_data | default(omit) }}"
    admin_password: "{{ admin_password | default(omit) }}"
"""

RETURN = r"""
config_drives:
  description: Path of each instance's config drive by uuid (null when it has none).
  type: dict
  returned: success
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import DEFAULT_INSTANCES_PATH
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.compute.config_drive import (
    CONFIG_DRIVE_NAME, find_iso_tool, make_config_drive)

PUBLISHER = "novalite.compute"
REQUIRED_FIELDS = ("uuid", "name", "display_name", "hostname")

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


def drive_paths(params):
    """{uuid: (record, path of its config drive)} after checking every record."""
    drives = {}
    for index, record in enumerate(params["instances"]):
        missing = [field for field in REQUIRED_FIELDS if not record.get(field)]
        if missing:
            raise InvalidInput("instances[%d] lacks %s" % (index, ", ".join(missing)))
        if "/" in record["name"] or record["name"] in (".", ".."):
            raise InvalidInput("instances[%d]: name %r cannot be a directory name" % (index, record["name"]))
        drives[record["uuid"]] = (record, os.path.join(params["instances_path"], record["name"], CONFIG_DRIVE_NAME))
    return drives


def wanted_path(params, record, path):
    """``path`` when the instance should have a config drive after this call, else None."""
    return path if params["state"] == "present" and record.get("config_drive") else None


def ensure_config_drives(module):
    params = module.params
    drives = drive_paths(params)
    before = {uuid: path if os.path.exists(path) else None for uuid, (_record, path) in drives.items()}
    after = {uuid: wanted_path(params, record, path) for uuid, (record, path) in drives.items()}
    to_build = [(record, after[uuid]) for uuid, (record, _path) in drives.items() if after[uuid] and not before[uuid]]
    to_remove = [path for uuid, (_record, path) in drives.items() if not after[uuid] and before[uuid]]
    if not module.check_mode:
        build_all(module, to_build)
        for path in to_remove:
            os.unlink(path)
    return {"changed": bool(to_build or to_remove), "config_drives": after,
            "diff": {"before": before, "after": after}}


def build_all(module, to_build):
    """Build every drive, or, when one fails, remove those this call built and re-raise."""
    params = module.params
    iso_tool = find_iso_tool(module.get_bin_path) if to_build else None
    built = []
    try:
        for record, target in to_build:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            make_config_drive(module.run_command, iso_tool, target, record, PUBLISHER,
                              user_data=params["user_data"], admin_password=params["admin_password"],
                              injected_files=params["injected_files"])
            built.append(target)
    except BaseException:
        for target in built:
            os.unlink(target)
        raise


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_config_drives)


if __name__ == "__main__":
    main()
