#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: live_migration
short_description: Live-migrate a batch of running instances to other hosts as Nova's libvirt driver did
version_added: 0.1.0
description:
  - Nova's libvirt live migration (C(nova/virt/libvirt/driver.py)) in three steps, one O(state) each, for a
    batch of instances in one call on a host.
  - V(checked), on the source (C(check_can_live_migrate_source) and C(_destination)). Each domain must run here;
    the target's libvirtd must answer at O(instances[].target_uri) with the same hypervisor type, a CPU that can run
    the guest's (C(compareHypervisorCPU), Nova's C(_compare_cpu)) and no domain of that name. Returns the disk's
    virtual size and its C(_base) file for the target. Changes nothing.
  - V(prepared), on the target (C(pre_live_migration)). After M(novalite.compute.image_cache) made the instance's
    directory and a disk on the same base there, the disk gets the source disk's virtual size
    (O(instances[].disk)), as block migration needs. Define the filters and commit the network first too
    (M(novalite.compute.nwfilter), M(novalite.compute.nova_network)).
  - V(migrated), on the source (C(live_migration)). The config drive (a read-only cdrom, which block migration
    does not copy) is sent through the target's libvirtd; then libvirt's peer-to-peer live migration
    (C(migrateToURI3) with VIR_MIGRATE_LIVE, PEER2PEER, PERSIST_DEST, UNDEFINE_SOURCE and NON_SHARED_INC; the
    hosts do not share storage, and only the overlay's own blocks are copied), with the domain XML for the target
    (each interface's filter parameters from O(instances[].network_info), the target's DHCP server) and QEMU's
    stream to O(instances[].migration_address). The job is watched until the domain is gone from here, and
    aborted after O(completion_timeout).
  - A failed migration leaves the guest running here, as it was (libvirt drops the incoming domain on the
    target), and the config drive sent is deleted again. The batch is migrated one instance after the other;
    the first failure ends the call, naming the instance, and RV(migrated) lists those that moved before it.
  - Re-running V(migrated) for an instance that is already running on its target changes nothing.
author:
  - novalite.compute contributors (@novalite)
requirements:
  - libvirt-python (Debian python3-libvirt) and lxml on both hosts; qemu-img on the target
  - the target's libvirtd reachable from the source's at the migration URI, and QEMU's migration and NBD ports
    (libvirt's migration_port_min to _max, 49152-49215) open from the source to O(instances[].migration_address)
options:
  state:
    description: The step (see the description).
    type: str
    choices: [checked, prepared, migrated]
    required: true
  instances:
    description: This host's instances for the step.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: libvirt name (C(instance-%08x)), also the instance directory's name.
        type: str
        required: true
      uuid:
        description: The instance's uuid.
        type: str
        required: true
      target_host:
        description: The target's inventory name (O(state=checked) and O(state=migrated)).
        type: str
      target_uri:
        description:
          - The target's libvirt URI, the inventory's C(novalite_migration_uri) with its
            C(novalite_migration_address) (O(state=checked) and O(state=migrated)).
        type: str
      migration_address:
        description:
          - Where QEMU's migration stream goes (the target's C(novalite_migration_address), Nova's
            C(live_migration_inbound_addr)); left out, libvirt asks the target.
        type: str
      network_info:
        description: The instance's VIFs as on the target (with its DHCP server), for the filter parameters.
        type: list
        elements: dict
        default: []
      disk:
        description:
          - The source disk as O(state=checked) returned it (C(virtual_size), C(base_name)), for O(state=prepared).
        type: dict
  uri:
    description: libvirt connection URI of this host.
    type: str
    default: qemu:///system
  instances_path:
    description: Nova's C($instances_path) on this host.
    type: path
    default: /var/lib/novalite/instances
  target_instances_path:
    description: The target's instances path, when it is not O(instances_path) (the domain's paths are moved to it).
    type: path
  completion_timeout:
    description: Seconds a migration may take before it is aborted (Nova's C(live_migration_completion_timeout)).
    type: int
    default: 800
  assume_prepared:
    description:
      - Only in check mode, for a check of a whole migration. With O(state=prepared) a disk that image_cache has
        not made (it ran in check mode too) is taken as made.
    type: bool
    default: false
notes:
  - Diff mode shows, per instance, where it is before and after (O(state=migrated)) and what the target's
    disk gets (O(state=prepared)).
seealso:
  - module: novalite.compute.instance_resize
  - module: novalite.compute.image_cache
extends_documentation_fragment:
  - novalite.compute.attributes
"""

EXAMPLES = r"""
- name: Check that compute2 can take the instance (on the source)
  novalite.compute.live_migration:
    state: checked
    instances:
      - name: instance-0000000a
        uuid: b110ed3b-9cc3-4d30-b433-a71090166b2c
        target_host: compute2
        target_uri: "qemu+ssh://root@10.0.0.12/system"
  register: checked

- name: Give the target's disk the source's size (on the target, after image_cache)
  novalite.compute.live_migration:
    state: prepared
    instances:
      - name: instance-0000000a
        uuid: b110ed3b-9cc3-4d30-b433-a71090166b2c
        disk: "{{ checked.instances[0].disk }}"

- name: Migrate (on the source)
  novalite.compute.live_migration:
    state: migrated
    instances:
      - name: instance-0000000a
        uuid: b110ed3b-9cc3-4d30-b433-a71090166b2c
        target_host: compute2
        target_uri: "qemu+ssh://root@10.0.0.12/system"
        migration_address: 10.0.0.12
        network_info: "{{ network_info_on_compute2 }}"
"""

RETURN = r"""
instances:
  description: One entry per instance, in the order of O(instances).
  returned: always
  type: list
  elements: dict
  sample:
    - name: instance-0000000a
      uuid: b110ed3b-9cc3-4d30-b433-a71090166b2c
      target_host: compute2
      changes: ["send disk.config to compute2:/var/lib/novalite/instances/instance-0000000a", live-migrate to compute2]
      seconds: 4.2
      stats: {time_elapsed: 2062, downtime: 85, data_total: 554508288, memory_iteration: 3}
  contains:
    name:
      description: libvirt name.
      type: str
      sample: instance-0000000a
    uuid:
      description: The instance's uuid.
      type: str
      sample: b110ed3b-9cc3-4d30-b433-a71090166b2c
    changes:
      description: What the call did (in check mode, would do) (O(state=prepared) and O(state=migrated)).
      type: list
      elements: str
      returned: with O(state=prepared) and O(state=migrated)
      sample: [live-migrate to compute2]
    disk:
      description: The source disk (O(state=checked)), for O(state=prepared) on the target.
      type: dict
      returned: with O(state=checked)
      sample: {path: /var/lib/novalite/instances/instance-0000000a/disk, format: qcow2, virtual_size: 33554432,
               backing_file: /var/lib/novalite/instances/_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b,
               base_name: 7a59e898ff7f55befd305e3ecf1ad853cb48115b, base_root_gb: 0}
      contains:
        path: {description: The disk's path., type: str, sample: /var/lib/novalite/instances/instance-0000000a/disk}
        format: {description: Its format., type: str, sample: qcow2}
        virtual_size: {description: Its virtual size in bytes., type: int, sample: 33554432}
        backing_file:
          description: Its backing file (null for a disk without one).
          type: str
          sample: /var/lib/novalite/instances/_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b
        base_name: {description: The backing file's name in C(_base)., type: str, sample: 7a59e898ff7f55befd305e3ecf1ad853cb48115b}
        base_root_gb:
          description: The root size the base was resized to (V(0) for the original), null when not a C(_base) file.
          type: int
          sample: 0
    config_drive:
      description: Whether the instance has a config drive to send (O(state=checked)).
      type: bool
      returned: with O(state=checked)
      sample: true
    cpu:
      description: How the target's hypervisor compared with the guest's CPU (O(state=checked)).
      type: str
      returned: with O(state=checked)
      sample: identical
    seconds:
      description: Wall time of the migration job (O(state=migrated)).
      type: float
      returned: when it migrated
      sample: 4.2
    stats:
      description:
        - libvirt's statistics of the completed job as the target reports them, in ms and bytes
          (C(downtime) is the time the guest was paused).
      type: dict
      returned: when it migrated
      sample: {time_elapsed: 2062, downtime: 85, data_total: 554508288, memory_iteration: 3}
      contains:
        time_elapsed: {description: The job's duration in ms., type: int, sample: 2062}
        downtime: {description: How long the guest was paused in ms., type: int, sample: 85}
        data_total: {description: Bytes to transfer., type: int, sample: 554508288}
        memory_iteration: {description: Rounds of memory copying., type: int, sample: 3}
migrated:
  description: The instances that moved (O(state=migrated)), also when a later one failed.
  returned: with O(state=migrated)
  type: list
  elements: str
  sample: [instance-0000000a]
failed:
  description: The instance whose migration failed (it still runs here).
  returned: failure
  type: str
  sample: instance-0000000b
failed_step:
  description: The step that failed.
  returned: failure
  type: str
  sample: live-migrating instance-0000000b to compute2
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_INSTANCES_PATH, DEFAULT_LIBVIRT_URI)
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.virt.migration import STATES, ensure_state

INSTANCE_OPTIONS = {
    "name": {"type": "str", "required": True},
    "uuid": {"type": "str", "required": True},
    "target_host": {"type": "str"},
    "target_uri": {"type": "str"},
    "migration_address": {"type": "str"},
    "network_info": {"type": "list", "elements": "dict", "default": []},
    "disk": {"type": "dict"},
}
ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": list(STATES), "required": True},
    "instances": {"type": "list", "elements": "dict", "required": True, "options": INSTANCE_OPTIONS},
    "uri": {"type": "str", "default": DEFAULT_LIBVIRT_URI},
    "instances_path": {"type": "path", "default": DEFAULT_INSTANCES_PATH},
    "target_instances_path": {"type": "path"},
    "completion_timeout": {"type": "int", "default": 800},
    "assume_prepared": {"type": "bool", "default": False},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_state)


if __name__ == "__main__":
    main()
