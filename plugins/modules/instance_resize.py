#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_resize
short_description: The disk work of Nova's resize and cold migration, on the source and on the target host
version_added: 0.1.0
description:
  - Does on one compute host, for a batch of instances in one call, what Nova's libvirt driver did with an
    instance's files in a resize or a cold migration (C(nova/virt/libvirt/driver.py)), one O(state) per step.
  - V(migrated), on the source (C(migrate_disk_and_power_off)). Each domain is destroyed and undefined,
    C(<instance dir>) becomes C(<instance dir>_resize), and its disk and config drive are copied to the target's
    C(<instance dir>) as C(disk.migrated) and C(disk.config). On the same host (O(instances[].same_host)) this is a
    local copy. To another host the copy goes through the target's libvirtd at O(instances[].target_uri) (the
    migration URI; a libvirt C(dir) storage pool over the directory for the time of the copy, one stream per
    file), so the hosts need nothing besides what live migration needs. The disk stays a qcow2 overlay of its
    C(_base) file, which M(novalite.compute.image_cache) caches on the target. The instance record as it was is
    kept in a migration record (the facts document's C(migrations) section, Nova's C(migrations) table), for a
    revert; the host's resource tracker counts its old flavor until the resize is confirmed or reverted.
    If anything fails, what the call did is undone and the domain runs again here as it did.
  - V(finished), on the target (C(finish_migration)). C(disk.migrated) becomes the disk (replacing the overlay
    image_cache made; pointed at this host's base with C(qemu-img rebase -u) when instances_path differs),
    and it is grown to O(instances[].root_gb) with C(qemu-img resize). A bare ext filesystem on it is grown too,
    through a FUSE export of the overlay by C(qemu-storage-daemon) (C(e2fsck -fp), C(resize2fs)), so the disk
    stays an overlay; without those tools only the disk grows (RV(instances[].filesystem) says so). A disk is
    never shrunk.
  - V(confirmed), on the source (C(confirm_migration)). C(<instance dir>_resize) and the migration record go.
  - V(reverted), on the source (C(finish_revert_migration)). C(<instance dir>_resize) is C(<instance dir>) again
    and the migration record goes; the resized instance must have been removed from this host before (on the
    same host). Define and start the old domain with M(novalite.compute.libvirt_domain).
  - Each state is idempotent (a finished migration, a grown disk, a confirmed or reverted resize change
    nothing), and the whole batch is checked before anything changes.
author:
  - novalite.compute contributors (@novalite)
requirements:
  - libvirt-python (Debian python3-libvirt) and lxml on the compute host, for O(state=migrated)
  - qemu-img; qemu-storage-daemon, e2fsprogs and /dev/fuse to grow a filesystem (O(state=finished))
options:
  state:
    description: The step (see the description).
    type: str
    choices: [migrated, finished, confirmed, reverted]
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
        description: The instance's uuid; its migration record is kept by it.
        type: str
        required: true
      same_host:
        description: The resize stays on this host (O(state=migrated)).
        type: bool
        default: false
      target_host:
        description: The target's inventory name, for messages and the migration record (O(state=migrated), another host).
        type: str
      target_uri:
        description:
          - The target's libvirt URI (the inventory's C(novalite_migration_uri) with its C(novalite_migration_address)),
            through which the files are sent (O(state=migrated), another host).
        type: str
      target_instances_path:
        description: The target's instances path, when it is not O(instances_path) (O(state=migrated)).
        type: path
      record:
        description: The instance record as it is, kept in the migration record for a revert (O(state=migrated)).
        type: dict
      new_flavor:
        description: The flavor the instance is resized to, for the migration record (O(state=migrated)).
        type: dict
      root_gb:
        description: The new flavor's root disk in GiB (O(state=finished)); V(0) keeps the disk's size.
        type: int
        default: 0
  uri:
    description: libvirt connection URI of this host.
    type: str
    default: qemu:///system
  instances_path:
    description: Nova's C($instances_path) on this host.
    type: path
    default: /var/lib/novalite/instances
  facts_path:
    description: The host's facts document (its C(migrations) section is this module's).
    type: path
    default: /etc/ansible/facts.d/novalite.fact
  assume_prepared:
    description:
      - Only in check mode, for a check of a whole resize, whose earlier steps changed nothing. With
        O(state=finished) a disk that is not there is taken as sent by the source (RV(instances[].assumed)).
    type: bool
    default: false
notes:
  - Diff mode shows the batch's migration records and which of its directories exist, before and after.
seealso:
  - module: novalite.compute.image_cache
  - module: novalite.compute.libvirt_domain
  - module: novalite.compute.live_migration
extends_documentation_fragment:
  - novalite.compute.attributes
"""

EXAMPLES = r"""
- name: Stop the instance and send its disk to compute2 (the source's step)
  novalite.compute.instance_resize:
    state: migrated
    instances:
      - name: instance-0000000a
        uuid: b110ed3b-9cc3-4d30-b433-a71090166b2c
        target_host: compute2
        target_uri: "qemu+ssh://root@10.0.0.12/system"
        record: "{{ the_instance_record }}"
        new_flavor: {name: m1.small, memory_mb: 2048, vcpus: 1, root_gb: 20}

- name: Put the migrated disk in place on compute2 and grow it (the target's step)
  novalite.compute.instance_resize:
    state: finished
    instances:
      - {name: instance-0000000a, uuid: b110ed3b-9cc3-4d30-b433-a71090166b2c, root_gb: 20}

- name: Confirm, on the source
  novalite.compute.instance_resize:
    state: confirmed
    instances:
      - {name: instance-0000000a, uuid: b110ed3b-9cc3-4d30-b433-a71090166b2c}
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
      changes: [destroy, undefine, move /var/lib/novalite/instances/instance-0000000a to
                /var/lib/novalite/instances/instance-0000000a_resize,
                copy disk to compute2:/var/lib/novalite/instances/instance-0000000a/disk.migrated,
                record the migration]
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
      description: What the call did (in check mode, would do); empty when nothing was to be done.
      type: list
      elements: str
      sample: [grow the disk to 20 GiB]
    disk:
      description: The disk as the source has it (O(state=migrated)), its virtual size and base.
      type: dict
      returned: with O(state=migrated)
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
    sent:
      description: The files copied, with their size (O(state=migrated)).
      type: list
      elements: dict
      returned: when files were copied
      sample: [{source: /var/lib/novalite/instances/instance-0000000a_resize/disk,
                target: /var/lib/novalite/instances/instance-0000000a/disk.migrated, bytes: 1376256}]
      contains:
        source: {description: The file copied., type: str, sample: /var/lib/novalite/instances/instance-0000000a_resize/disk}
        target:
          description: Where it went (C(<host>:<path>) for another host).
          type: str
          sample: /var/lib/novalite/instances/instance-0000000a/disk.migrated
        bytes: {description: Its size., type: int, sample: 1376256}
    virtual_size:
      description: The disk's virtual size after the call (O(state=finished)).
      type: int
      returned: with O(state=finished)
      sample: 21474836480
    filesystem:
      description: What became of the filesystem when the disk grew (V(grown), V(unchanged), or why not).
      type: str
      returned: when the disk was grown
      sample: grown
    old_record:
      description: The instance record the migration record kept (O(state=reverted)).
      type: dict
      returned: with O(state=reverted), when there was a migration record
      sample: {uuid: b110ed3b-9cc3-4d30-b433-a71090166b2c, host: compute1, flavor: {name: m1.tiny}}
      contains:
        uuid: {description: The instance's uuid., type: str, sample: b110ed3b-9cc3-4d30-b433-a71090166b2c}
        host: {description: The source host., type: str, sample: compute1}
        flavor:
          description: The flavor before the resize (every field of an instance record's flavor).
          type: dict
          sample: {name: m1.tiny}
          contains:
            name: {description: The flavor's name., type: str, sample: m1.tiny}
    assumed:
      description: Files taken as made by earlier steps (check mode with O(assume_prepared)).
      type: list
      elements: str
      returned: when something was assumed
      sample: [/var/lib/novalite/instances/instance-0000000a/disk.migrated]
failed_step:
  description: The step that failed while applying; what the call did before it was undone.
  returned: failure
  type: str
  sample: copying the disk of instance-0000000a to compute2
rolled_back:
  description: What was undone, newest first.
  returned: failure
  type: list
  elements: str
  sample: [move /var/lib/novalite/instances/instance-0000000a_resize back, define instance-0000000a again,
           start instance-0000000a again]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_FACTS_PATH, DEFAULT_INSTANCES_PATH, DEFAULT_LIBVIRT_URI)
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.compute.resize import STATES, ensure_state

INSTANCE_OPTIONS = {
    "name": {"type": "str", "required": True},
    "uuid": {"type": "str", "required": True},
    "same_host": {"type": "bool", "default": False},
    "target_host": {"type": "str"},
    "target_uri": {"type": "str"},
    "target_instances_path": {"type": "path"},
    "record": {"type": "dict"},
    "new_flavor": {"type": "dict"},
    "root_gb": {"type": "int", "default": 0},
}
ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": list(STATES), "required": True},
    "instances": {"type": "list", "elements": "dict", "required": True, "options": INSTANCE_OPTIONS},
    "uri": {"type": "str", "default": DEFAULT_LIBVIRT_URI},
    "instances_path": {"type": "path", "default": DEFAULT_INSTANCES_PATH},
    "facts_path": {"type": "path", "default": DEFAULT_FACTS_PATH},
    "assume_prepared": {"type": "bool", "default": False},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_state)


if __name__ == "__main__":
    main()
