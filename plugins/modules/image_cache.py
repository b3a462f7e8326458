#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_cache
short_description: Nova's _base image cache and copy-on-write instance disks on a compute host
version_added: "0.1.0"
description:
  - Reproduces Nova's libvirt image backend (C(Image.cache), C(Raw), C(Qcow2)), C(images.fetch_to_raw)
    and the imagecache manager as one idempotent module run on the compute host.
  - Base files live in C(<instances_path>/_base/), named by the sha1 of the image id (kernels and ramdisks
    by their own ids). A missing base is downloaded to C(<name>.part), its size and checksum verified,
    inspected with C(qemu-img info --output=json) under C(prlimit --as=1GiB --cpu=30), converted to raw when
    it is not raw, and renamed into place. A base that is present is never fetched again.
  - Images with a backing file or an external data file, and images whose format is not the declared
    C(disk_format), are refused; their first bytes are read in Python before qemu-img may probe them, so
    a crafted image never makes anything open a file it names.
  - Per instance, C(<instances_path>/<name>/) gets C(disk) (a qcow2 overlay on the base), C(kernel) and
    C(ramdisk) (copies) and an empty C(console.log). Existing instance files are never overwritten.
  - When I(root_gb) is larger than the image, the disk is backed by a resized copy C(_base/<sha1>_<root_gb>)
    (Folsom's behaviour, grown with C(qemu-img resize) and C(resize2fs) for a bare ext filesystem).
    An image is never shrunk.
  - An exclusive lock per image (C(<instances_path>/locks/nova-<base name>)) makes concurrent runs and
    forks download an image once.
  - One call prepares (or removes) the files of a whole batch of instances on the host.
author:
  - novalite.compute contributors (@novalite)
options:
  instances_path:
    description: Nova's C($instances_path); holds C(_base/), C(locks/) and one directory per instance.
    type: path
    default: /var/lib/novalite/instances
  catalog:
    description:
      - Path, on the compute host, of the image catalog (the Glance stand-in) as YAML or JSON, either a list
        of image records or a mapping with key C(images).
      - A record has C(id) (uuid), C(name), C(status), C(disk_format) (raw, qcow2, aki, ari, ami),
        C(container_format), C(size), C(checksum) (md5 as Glance records it; 64 hex digits are sha256),
        C(min_ram), C(min_disk), C(owner), C(is_public), C(properties) (C(kernel_id), C(ramdisk_id)) and
        C(location) (an absolute path, C(file://), C(http://) or C(https://) URL).
    type: path
  images:
    description: The image catalog as a list of records (for example from inventory variables).
    type: list
    elements: dict
  instances:
    description:
      - The instances of this host to prepare (I(state=present)) or whose directories to remove (I(state=absent)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Instance name and directory name, as C(instance-%08x) (for example C(instance-0000000a)).
        type: str
        required: true
      image_id:
        description: The root disk image, by id or by unique name. Required with I(state=present).
        type: str
      kernel_id:
        description:
          - Kernel image (disk_format aki) by id or unique name. Defaults to the image's C(properties.kernel_id);
            an empty string means no kernel.
        type: str
      ramdisk_id:
        description:
          - Ramdisk image (disk_format ari) by id or unique name. Defaults to the image's
            C(properties.ramdisk_id); an empty string means no ramdisk.
        type: str
      root_gb:
        description:
          - Flavor root disk size in GiB. C(0) keeps the image's size (as m1.tiny). Larger than the image
            backs the disk with a resized base; smaller than the image fails.
        type: int
        default: 0
  state:
    description:
      - C(present) makes the base files and instance files. C(absent) removes the listed instances'
        directories (with everything in them), for delete and rollback.
    type: str
    choices: [present, absent]
    default: present
  cache_cleanup:
    description:
      - Run the age-off (Nova's C(remove_unused_base_images)) after the rest. Base files no instance uses
        (the I(instances) of this call, the instance records in I(facts_path), and the backing files of the
        disks in every instance directory) are removed once older than the minimum age.
    type: bool
    default: false
  original_minimum_age:
    description: Seconds an unused original base (and kernel/ramdisk) is kept (Nova's C(remove_unused_original_minimum_age_seconds)).
    type: int
    default: 86400
  resized_minimum_age:
    description: Seconds an unused resized base (or a crash's leftover C(.part)) is kept (Nova's C(remove_unused_resized_minimum_age_seconds)).
    type: int
    default: 3600
  facts_path:
    description: The host's novalite facts document; its C(instances) records count as users in the age-off.
    type: path
    default: /etc/ansible/facts.d/novalite.fact
  lock_timeout:
    description: Seconds to wait for an image's lock (another run may be downloading it).
    type: float
    default: 600
  download_timeout:
    description: Socket timeout in seconds for http(s) downloads.
    type: float
    default: 60
  use_proxy:
    description: Whether http(s) downloads use the proxy named by the environment (C(http_proxy) and so on).
    type: bool
    default: true
notes:
  - Check mode reports what would be fetched, made and removed without touching anything.
  - Diff mode shows the names in C(_base) and the files of each instance before and after.
  - Verified base files stay in the cache when a later step fails; instance files made by the failed
    run are removed, and no C(.part) or half-converted base is ever left.
requirements:
  - qemu-img (qemu-utils), prlimit (util-linux) on the compute host; e2fsprogs to grow ext filesystems.
extends_documentation_fragment:
  - novalite.compute.attributes
"""

EXAMPLES = r"""
- name: Prepare the disks of this host's new instances from the catalog file
  novalite.compute.image_cache:
    catalog: /var/tmp/novalite-images/catalog.yml
    instances:
      - name: instance-0000000a
        image_id: novalite-test-image
      - name: instance-0000000b
        image_id: 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9
        root_gb: 1
  register: prepared

- name: Boot from what it made
  ansible.builtin.debug:
    msg: "{{ prepared.instances['instance-0000000a'].disk }} on {{ prepared.instances['instance-0000000a'].base_files.disk }}"

- name: Remove a deleted instance's directory and age off unused base files
  novalite.compute.image_cache:
    state: absent
    instances:
      - name: instance-0000000b
    cache_cleanup: true
"""

RETURN = r"""
instances:
  description: Per instance name (I(state=present)), its files and the base files they come from.
  returned: always
  type: dict
  sample:
    instance-0000000a:
      instance_dir: /var/lib/novalite/instances/instance-0000000a
      disk: /var/lib/novalite/instances/instance-0000000a/disk
      kernel: /var/lib/novalite/instances/instance-0000000a/kernel
      ramdisk: /var/lib/novalite/instances/instance-0000000a/ramdisk
      console_log: /var/lib/novalite/instances/instance-0000000a/console.log
      image_id: 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9
      kernel_id: b6aa0ae4-dadf-5217-b04f-58142460a755
      ramdisk_id: 72015c86-b186-5f29-8f70-ab23bf2b1a94
      root_gb: 0
      base_files:
        disk: /var/lib/novalite/instances/_base/0c8cbb1a4bba9d3e1a0f8ad04a0f5e0f2b3e8e63
        kernel: /var/lib/novalite/instances/_base/b6aa0ae4-dadf-5217-b04f-58142460a755
        ramdisk: /var/lib/novalite/instances/_base/72015c86-b186-5f29-8f70-ab23bf2b1a94
      created: [console.log, disk, kernel, ramdisk]
base_files:
  description:
    - The base files this run needed to make instance files, sorted by name. C(role) is disk, resized,
      kernel or ramdisk; C(action) is fetched, resized or present (in check mode, what would happen).
  returned: always
  type: list
  elements: dict
  sample:
    - name: 0c8cbb1a4bba9d3e1a0f8ad04a0f5e0f2b3e8e63
      path: /var/lib/novalite/instances/_base/0c8cbb1a4bba9d3e1a0f8ad04a0f5e0f2b3e8e63
      role: disk
      image_id: 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9
      action: fetched
removed_instances:
  description: Instance directories removed (I(state=absent); in check mode, that would be removed).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/novalite/instances/instance-0000000b]
cache_report:
  description:
    - The age-off, one entry per file in C(_base) with C(name), C(path), C(kind) (original, resized,
      temporary, unknown) and C(reason). In check mode C(removed) lists what would be removed.
  returned: when cache_cleanup is true
  type: dict
  sample:
    kept:
      - name: 0c8cbb1a4bba9d3e1a0f8ad04a0f5e0f2b3e8e63
        path: /var/lib/novalite/instances/_base/0c8cbb1a4bba9d3e1a0f8ad04a0f5e0f2b3e8e63
        kind: original
        reason: in use by instance-0000000a
    removed:
      - name: 0c8cbb1a4bba9d3e1a0f8ad04a0f5e0f2b3e8e63_1
        path: /var/lib/novalite/instances/_base/0c8cbb1a4bba9d3e1a0f8ad04a0f5e0f2b3e8e63_1
        kind: resized
        reason: unused for 7200 s (minimum age 3600 s)
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_FACTS_PATH, DEFAULT_INSTANCES_PATH)
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.image.service import ensure_state

INSTANCE_SPEC = dict(
    name=dict(type="str", required=True),
    image_id=dict(type="str"),
    kernel_id=dict(type="str"),
    ramdisk_id=dict(type="str"),
    root_gb=dict(type="int", default=0),
)

ARGUMENT_SPEC = dict(
    instances_path=dict(type="path", default=DEFAULT_INSTANCES_PATH),
    catalog=dict(type="path"),
    images=dict(type="list", elements="dict"),
    instances=dict(type="list", elements="dict", default=[], options=INSTANCE_SPEC),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    cache_cleanup=dict(type="bool", default=False),
    original_minimum_age=dict(type="int", default=86400),
    resized_minimum_age=dict(type="int", default=3600),
    facts_path=dict(type="path", default=DEFAULT_FACTS_PATH),
    lock_timeout=dict(type="float", default=600),
    download_timeout=dict(type="float", default=60),
    use_proxy=dict(type="bool", default=True),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=[("catalog", "images")],
                           supports_check_mode=True)
    run_module(module, ensure_state)


if __name__ == "__main__":
    main()
