#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_power
short_description: Stop, start, reboot, pause, unpause, suspend or resume a batch of instances as Nova did
version_added: 0.1.0
description:
  - One power action for every instance of O(instances) on this compute host, in one call, with the instance
    records in the host's facts (O(facts_path)) and the libvirt domains kept in agreement, as Nova's compute
    manager and libvirt driver did (C(nova/compute/manager.py), C(nova/virt/libvirt/driver.py)).
  - Every instance is checked before anything changes. The action must be allowed in the instance's vm_state
    (V(stop) from active or error; V(start) from stopped; V(pause) and V(suspend) from active; V(unpause) from
    paused; V(resume) from suspended; a soft V(reboot) from active, a hard one from active, stopped, paused,
    suspended or error) and no other task may be in progress (a hard reboot is allowed whatever the task state).
    Otherwise the call fails naming the instance and its state, and changes nothing.
  - Then it records the action's task state (C(powering-off), C(powering-on), C(rebooting), C(rebooting_hard),
    C(pausing), C(unpausing), C(suspending), C(resuming)), acts on the domains, and records the final vm_state
    (V(stopped), V(active), V(paused), V(suspended)), the power state libvirt reports (Nova's numbers,
    V(1) running, V(3) paused, V(4) shutdown, also for a suspended domain, which is shut off with its memory saved)
    and no task state.
  - V(stop) presses the ACPI power button and gives the guests O(shutdown_timeout) seconds, then destroys the
    ones still running (Nova's C(_clean_shutdown)); a paused guest is destroyed at once. V(pause) and V(unpause)
    stop and resume the vCPUs; V(suspend) saves the guest's memory with C(managedSave) and V(resume) restores it.
  - A soft V(reboot) presses the power button, checks every half second for up to O(reboot_timeout) seconds that
    the guest is off and starts it again; a guest that does not power off in time gets a hard reboot (Nova's
    C(_soft_reboot)). A hard reboot destroys the domain, discards a saved state, writes the definition to
    C(<instances_path>/<name>/libvirt.xml) again and starts it (Nova's C(_hard_reboot)).
  - Idempotent for V(stop), V(start), V(pause) and V(suspend); an instance already in the target state, whose
    domain agrees, is no change. V(reboot) always reboots (as M(ansible.builtin.reboot) does), also in check mode
    it reports a change. Where the record and libvirt disagree (a guest powered off from inside), the action
    brings both to its target state.
  - If anything fails before the final states are recorded, every domain of the call is put back in the
    condition it was in and the records as they were; a domain that cannot be put back leaves its instance in
    vm_state V(error) with the reason. The failure names its step (C(failed_step), C(rolled_back),
    C(rollback_failures)).
  - With O(wait_for) the call waits, after recording, for the guests it started or resumed.
author:
  - novalite.compute contributors (@novalite)
requirements:
  - libvirt-python (Debian python3-libvirt), lxml and netaddr on the compute host
options:
  instances:
    description:
      - The instances of this host, by C(uuid) (instance records as the host recorded them, or just C(uuid)).
      - Each must be recorded in O(facts_path) and have its libvirt domain on this host.
    type: list
    elements: dict
    required: true
  action:
    description: The power action.
    type: str
    required: true
    choices: [stop, start, reboot, pause, unpause, suspend, resume]
  reboot_type:
    description: With O(action=reboot), V(soft) (ACPI, hard after O(reboot_timeout)) or V(hard).
    type: str
    choices: [soft, hard]
    default: soft
  shutdown_timeout:
    description: Seconds a guest has to power off after the ACPI request of O(action=stop) before it is destroyed.
    type: int
    default: 60
  reboot_timeout:
    description: Seconds a guest has to power off after the ACPI request of a soft reboot before it gets a hard one.
    type: int
    default: 120
  wait_for:
    description:
      - After the action, wait for the guests it started or resumed. V(running) waits until libvirt reports them
        running; V(lease) until each NIC is seen on its network (as M(novalite.compute.libvirt_domain) waits);
        V(none) does not wait.
      - A guest that is late fails the call; the action itself is done and recorded.
    type: str
    choices: [none, running, lease]
    default: running
  wait_timeout:
    description: Seconds to wait for the guests with O(wait_for).
    type: int
    default: 300
extends_documentation_fragment:
  - novalite.compute.attributes
  - novalite.compute.instance_host
"""

EXAMPLES = r"""
- name: Stop this host's instances of the batch (ACPI, destroyed after 60 s)
  novalite.compute.instance_power:
    instances: "{{ batch }}"
    action: stop

- name: Hard reboot them and wait until they have their leases
  novalite.compute.instance_power:
    instances: "{{ batch }}"
    action: reboot
    reboot_type: hard
    wait_for: lease
"""

RETURN = r"""
action:
  description: The action (V(reboot) for both kinds).
  type: str
  returned: success
  sample: stop
instances:
  description: What the call did (in check mode, would do) for each instance, in the order of O(instances).
  type: list
  elements: dict
  returned: success
  sample:
    - uuid: 8383fb3d-7dcf-4203-b639-14c617b55259
      name: instance-00000001
      display_name: web-1
      host: compute1
      action: stop
      changed: true
      vm_state: stopped
      power_state: 4
      libvirt: "off"
      steps: [shutdown]
      done: [ACPI shutdown]
      reboot: null
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
    action:
      description: The action.
      type: str
      sample: stop
    changed:
      description: Whether the record or the domain changed for it.
      type: bool
      sample: true
    vm_state:
      description: Its vm_state after the action.
      type: str
      sample: stopped
    power_state:
      description: Its power state after the action, as libvirt reports it (Nova's numbers).
      type: int
      sample: 4
    libvirt:
      description: Its domain's condition after the action, V(up), V(paused), V(off), V(saved), V(asleep) or V(crashed).
      type: str
      sample: "off"
    steps:
      description: The steps planned for its domain (empty when the domain already was where the action leads).
      type: list
      elements: str
      sample: [shutdown]
    done:
      description: What was done to the domain, for example C(ACPI shutdown) and C(destroy after 60s).
      type: list
      elements: str
      sample: [ACPI shutdown]
    reboot:
      description: With O(action=reboot), V(soft), V(hard), or why a soft reboot became a hard one.
      type: str
      sample: soft
records:
  description: The instance records as they are after the call (in check mode, as they would be).
  type: list
  elements: dict
  returned: success
  sample:
    - uuid: 8383fb3d-7dcf-4203-b639-14c617b55259
      display_name: web-1
      vm_state: stopped
      power_state: 4
      task_state: null
  contains:
    uuid:
      description: The instance's uuid.
      type: str
      sample: 8383fb3d-7dcf-4203-b639-14c617b55259
    vm_state:
      description: Its vm_state.
      type: str
      sample: stopped
    power_state:
      description: Its power state.
      type: int
      sample: 4
    task_state:
      description: Its task state (null once the action is done).
      type: str
      sample: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_actions import HOST_OPTIONS
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.virt.power_service import WAIT_CHOICES, ensure_power

ARGUMENT_SPEC = {
    "instances": {"type": "list", "elements": "dict", "required": True},
    "action": {"type": "str", "required": True,
               "choices": ["stop", "start", "reboot", "pause", "unpause", "suspend", "resume"]},
    "reboot_type": {"type": "str", "choices": ["soft", "hard"], "default": "soft"},
    "shutdown_timeout": {"type": "int", "default": 60},
    "reboot_timeout": {"type": "int", "default": 120},
    "wait_for": {"type": "str", "choices": list(WAIT_CHOICES), "default": "running"},
    "wait_timeout": {"type": "int", "default": 300},
}
ARGUMENT_SPEC.update(HOST_OPTIONS)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_power)


if __name__ == "__main__":
    main()
