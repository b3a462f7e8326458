#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_snapshot
short_description: Snapshot instances' disks into new images of the controller's catalog (Nova's createImage)
version_added: 0.1.0
description:
  - For every instance of O(instances) on this compute host, converts its disk (the qcow2 overlay and the C(_base)
    file behind it) into one standalone qcow2 image with C(qemu-img convert), as Nova's libvirt driver C(snapshot)
    did, and adds it to the image catalog on the controller (O(catalog)), the Glance stand-in. A new instance boots
    from it through the normal create flow.
  - The disk is read consistently. A running guest is paused while its disk is converted (QEMU drains and flushes
    its I/O when it stops the vCPUs) and resumed right after; a paused, stopped or suspended guest is left as it is.
  - The instance must be in vm_state active, stopped, paused or suspended with no task in progress. Its record says
    task_state C(image_snapshot) while the disk is converted, C(image_uploading) until the image is in the catalog,
    then none; its vm_state does not change.
  - The controller's half (an action plugin) fetches each image over the Ansible connection from the task's temporary
    directory on the host into the catalog's directory as C(<image id>.qcow2), checks its size and md5 against what
    the host measured, and rewrites the catalog once for the batch, through a temporary file and a rename, under the
    exclusive lock C(<catalog>.lock). A reader of the catalog sees it before or after the write, never half of it,
    and two snapshots written at the same moment both land.
  - Each new record has a new uuid as C(id), the asked name, C(status) V(active), C(disk_format) V(qcow2),
    C(container_format) V(bare), C(size), C(checksum) (md5), C(min_disk) (the flavor's root disk or the base image's
    C(min_disk), whichever is larger), C(min_ram) (the base image's), C(owner) (the project), C(is_public) V(false),
    its location beside the catalog, and Nova's properties C(image_type) V(snapshot), C(instance_uuid),
    C(base_image_ref) (the instance's image), C(user_id), C(owner) and the base image's C(kernel_id) and
    C(ramdisk_id).
  - Idempotent by name. An image of the asked name that is a snapshot of the same instance is a re-run's, and
    nothing is done for it (V(changed=false)); a name another image has is refused.
  - A failure resumes a guest it paused, removes the partial image on the host and the files it placed beside the
    catalog, leaves the catalog as it was and puts the records back.
author:
  - novalite.compute contributors (@novalite)
requirements:
  - qemu-img, libvirt-python (Debian python3-libvirt) on the compute host; PyYAML on the controller for a YAML catalog
options:
  instances:
    description: The instances of this host to snapshot, by C(uuid) (their records as the host recorded them).
    type: list
    elements: dict
    required: true
  image_names:
    description:
      - The name of each new image, by instance uuid (role C(novalite.compute.snapshot) takes them from
        M(novalite.compute.instance_lookup)).
    type: dict
    required: true
  catalog:
    description:
      - The image catalog on the controller, a YAML or JSON file in either of the forms M(novalite.compute.image_cache)
        reads (it keeps its form). The image files go into its directory.
    type: path
    required: true
  lock_timeout:
    description: Seconds to wait for the catalog's lock.
    type: float
    default: 300.0
  image_ids:
    description:
      - The id of each new image, by instance uuid, for the host's half. The action plugin sets it; there is no reason
        to set it by hand.
    type: dict
    default: {}
  cleanup:
    description:
      - For the host's half, end the snapshots' task state instead of taking them. The action plugin sets it; there
        is no reason to set it by hand.
    type: bool
    default: false
extends_documentation_fragment:
  - novalite.compute.attributes
  - novalite.compute.instance_host
"""

EXAMPLES = r"""
- name: Snapshot web-1 into the image web-1-nightly
  novalite.compute.instance_snapshot:
    instances: "{{ lookup_result.by_host[inventory_hostname] }}"
    image_names: "{{ lookup_result.snapshot_names }}"
    catalog: /srv/images/catalog.yml
"""

RETURN = r"""
images:
  description: The catalog records of the batch's snapshots (those this run added, and those a re-run found).
  type: list
  elements: dict
  returned: success
  sample:
    - id: 3f1c5d2e-8a7b-4c6d-9e0f-1a2b3c4d5e6f
      name: web-1-nightly
      status: active
      disk_format: qcow2
      size: 2359296
      checksum: 0c2f4a5e8b1d3c6f9a7e2b4d6c8a0e1f
      min_disk: 0
      properties: {image_type: snapshot, instance_uuid: 8383fb3d-7dcf-4203-b639-14c617b55259}
  contains:
    id:
      description: The new image's id.
      type: str
      sample: 3f1c5d2e-8a7b-4c6d-9e0f-1a2b3c4d5e6f
    name:
      description: Its name.
      type: str
      sample: web-1-nightly
    properties:
      description: Nova's snapshot properties.
      type: dict
      sample: {image_type: snapshot, instance_uuid: 8383fb3d-7dcf-4203-b639-14c617b55259}
      contains:
        image_type: {description: V(snapshot)., type: str, sample: snapshot}
        instance_uuid: {description: The instance it was taken of., type: str, sample: 8383fb3d-7dcf-4203-b639-14c617b55259}
catalog:
  description: The catalog the images are in.
  type: str
  returned: success
  sample: /srv/images/catalog.yml
snapshots:
  description: What the host did for each image it made (in check mode, would make).
  type: list
  elements: dict
  returned: when a snapshot was taken or planned
  sample:
    - uuid: 8383fb3d-7dcf-4203-b639-14c617b55259
      image_id: 3f1c5d2e-8a7b-4c6d-9e0f-1a2b3c4d5e6f
      paused_for_it: true
  contains:
    uuid:
      description: The instance's uuid.
      type: str
      sample: 8383fb3d-7dcf-4203-b639-14c617b55259
    image_id:
      description: The image made of its disk.
      type: str
      sample: 3f1c5d2e-8a7b-4c6d-9e0f-1a2b3c4d5e6f
    paused_for_it:
      description: Whether the guest was paused while its disk was read.
      type: bool
      sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_actions import HOST_OPTIONS
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.image.snapshot import ensure_snapshot

# One spec for both halves: the host's half ignores the controller's options (image_names, catalog,
# lock_timeout), which the action plugin reads.
ARGUMENT_SPEC = {
    "instances": {"type": "list", "elements": "dict", "required": True},
    "image_names": {"type": "dict", "required": True},
    "catalog": {"type": "path", "required": True},
    "lock_timeout": {"type": "float", "default": 300.0},
    "image_ids": {"type": "dict", "default": {}},
    "cleanup": {"type": "bool", "default": False},
}
ARGUMENT_SPEC.update(HOST_OPTIONS)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_snapshot)


if __name__ == "__main__":
    main()
