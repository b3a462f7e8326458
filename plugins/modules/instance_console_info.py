#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_console_info
short_description: The last lines of instances' serial console logs (Nova's get_console_output)
version_added: 0.1.0
description:
  - For every instance of O(instances) recorded on this compute host, returns the last O(lines) lines of its serial
    console log, C(<instances_path>/<name>/console.log), where the domain's first serial port writes.
  - As Nova's libvirt driver, at most the last 100 KiB of the log are read; as its API, the last O(lines) lines of
    those are returned. CR LF line ends become plain lines; bytes that are not UTF-8 are replaced.
  - Changes nothing. An instance that is not recorded on this host fails the call.
options:
  instances:
    description: The instances, by C(uuid) (instance records as the host recorded them, or just C(uuid)).
    type: list
    elements: dict
    required: true
  lines:
    description: How many lines, from the end; V(0) returns all that was read.
    type: int
    default: 50
  instances_path:
    description: Where the instance directories are.
    type: path
    default: /var/lib/novalite/instances
  facts_path:
    description: The host's facts document holding the instance records.
    type: path
    default: /etc/ansible/facts.d/novalite.fact
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes.read_only
"""

EXAMPLES = r"""
- name: The last 20 console lines of this host's instances of the batch
  novalite.compute.instance_console_info:
    instances: "{{ batch }}"
    lines: 20
  register: console
"""

RETURN = r"""
consoles:
  description: One entry per instance, in the order of O(instances).
  type: list
  elements: dict
  returned: success
  sample:
    - uuid: 8383fb3d-7dcf-4203-b639-14c617b55259
      name: instance-00000001
      display_name: web-1
      host: compute1
      path: /var/lib/novalite/instances/instance-00000001/console.log
      exists: true
      lines: ["novalite-guest ready"]
      truncated: true
  contains:
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
    host:
      description: The compute host its record names.
      type: str
      sample: compute1
    path:
      description: The console log's path.
      type: str
      sample: /var/lib/novalite/instances/instance-00000001/console.log
    exists:
      description: Whether the console log exists (an instance never started has none).
      type: bool
      sample: true
    lines:
      description: The last lines of the log, oldest first.
      type: list
      elements: str
      sample: ["novalite-guest ready"]
    truncated:
      description: Whether the log holds more than the lines returned.
      type: bool
      sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_FACTS_PATH, DEFAULT_INSTANCES_PATH)
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.virt.console import console_output

ARGUMENT_SPEC = {
    "instances": {"type": "list", "elements": "dict", "required": True},
    "lines": {"type": "int", "default": 50},
    "instances_path": {"type": "path", "default": DEFAULT_INSTANCES_PATH},
    "facts_path": {"type": "path", "default": DEFAULT_FACTS_PATH},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, console_output)


if __name__ == "__main__":
    main()
