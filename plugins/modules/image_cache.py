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
  - Reproduces Nova's libvirt image backend (C(Image.cache), C(Raw), C(Qcow2) of
    C(nova/virt/libvirt/imagebackend.py)), C(fetch_to_raw) of C(nova/virt/images.py) and the imagecache
    manager (C(nova/virt/libvirt/imagecache.py)) as one idempotent module run on the compute host.
  - Base files live in C(<instances_path>/_base/), named by the sha1 of the image id (kernels and ramdisks
    by their own ids). A missing base is downloaded to C(<name>.part), its size and checksum verified,
    inspected with C(qemu-img info --output=json) under C(prlimit --as=1GiB --cpu=30), converted to raw when
    it is not raw, and renamed into place. A base that is present is never fetched again.
  - An image is read only from where this host allows. A local file (an absolute path or a C(file://) URL) must
    lie inside one of O(image_dirs) once symlinks and C(..) are resolved; any other location needs a scheme in
    O(allowed_schemes). A record pointing anywhere else fails the run before anything is changed, so a catalog
    cannot make the host copy one of its own files into C(_base) and boot it as a guest's disk.
  - Images with a backing file or an external data file, and images whose format is not the declared
    C(disk_format), are refused; their first bytes are read in Python before qemu-img may probe them, so
    a crafted image never makes anything open a file it names.
  - Per instance, C(<instances_path>/<name>/) gets C(disk) (a qcow2 overlay on the base), C(kernel) and
    C(ramdisk) (copies) and an empty C(console.log). Existing instance files are never overwritten.
  - When O(instances[].root_gb) is larger than the image, the disk is backed by a resized copy
    C(_base/<sha1>_<root_gb>) (Folsom's behaviour, grown with C(qemu-img resize) and C(resize2fs) for a bare
    ext filesystem). An image is never shrunk.
  - An exclusive lock per image (C(<instances_path>/locks/nova-<base name>)) makes concurrent runs and
    forks download an image once.
  - One call prepares (or removes) the files of a whole batch of instances on the host.
  - With O(controller_catalog) the catalog, and the image files it names, are on the controller (the Glance
    stand-in lives there). The action plugin reads the catalog with the loader the request step uses, confines
    its local locations to the catalog's directory and O(controller_image_dirs) on the controller, and calls the
    module once. Only when the host lacks a base file does it send that image's file over the Ansible connection
    into the task's temporary directory and call the module a second time, which verifies and caches the copy
    exactly like a download. A warm cache costs one module call and sends nothing; the host never reads a path
    of its own that a catalog named.
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
        of image records or a mapping whose one key is C(images) holding that list. Any other shape fails.
      - A record has C(id) (uuid), C(name), C(status), C(disk_format) (V(raw), V(qcow2), V(aki), V(ari), V(ami)),
        C(container_format), C(size), C(checksum) (md5 as Glance records it; 64 hex digits are sha256),
        C(min_ram), C(min_disk), C(owner), C(is_public), C(properties) (C(kernel_id), C(ramdisk_id)) and
        C(location) (an absolute path, or a C(file://), C(http://) or C(https://) URL).
      - Mutually exclusive with O(images) and O(controller_catalog).
    type: path
  controller_catalog:
    description:
      - Path, on the controller, of the image catalog, in the forms of O(catalog). Read on the controller by the
        action plugin, with the same loader as the request step (M(novalite.compute.instance_request)).
      - Its local locations (absolute paths and C(file://) URLs) are files on the controller. Each must lie inside
        the catalog's own directory or one of O(controller_image_dirs) once symlinks and C(..) are resolved, which
        the controller checks before it calls the module or sends anything. The module tells the controller which
        images the host has no base file for. The controller sends only those, each one over the Ansible
        connection into the task's temporary directory. The module then reads the copy only from there, under a
        name it derives from the image id, and checks it like a download (size, checksum, format inspection, no
        backing or data file) before it goes into C(_base). An image the host caches is never sent again.
      - C(http://) and C(https://) locations are fetched by the host, within O(allowed_schemes).
      - Mutually exclusive with O(catalog), O(images) and O(image_dirs).
    type: path
  controller_image_dirs:
    description:
      - Directories on the controller, besides the directory of O(controller_catalog), that its local image files
        may lie in (the rule of O(image_dirs), applied on the controller). Needs O(controller_catalog).
    type: list
    elements: path
  delivered_images:
    description:
      - Ids of records in O(images) whose bytes the controller sends over the connection. The action plugin sets
        this from O(controller_catalog); there is no reason to set it by hand.
      - Their locations are the controller's and are never read on this host. Until the copy of one whose base
        file is missing has arrived in the task's temporary directory, the module changes nothing and lists it in
        RV(delivery_needed).
    type: list
    elements: str
    default: []
  images:
    description:
      - The image catalog as a list of records (for example from inventory variables), with the fields of
        O(catalog)'s records. Mutually exclusive with O(catalog).
    type: list
    elements: dict
  image_dirs:
    description:
      - Directories of this host that local image files (absolute paths and C(file://) locations) may be read
        from. A location counts as inside when its real path (symlinks and C(..) resolved) lies below the real
        path of one of them.
      - When not set, the directory of O(catalog); with O(images) and no O(image_dirs), local files are refused
        and only O(allowed_schemes) locations are read.
    type: list
    elements: path
  allowed_schemes:
    description:
      - The URL schemes remote image locations may have, redirects included. An empty list allows local files
        only.
    type: list
    elements: str
    choices: [http, https]
    default: [http, https]
  instances:
    description:
      - The instances of this host to prepare (O(state=present)) or whose directories to remove (O(state=absent)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Instance name and directory name, as C(instance-%08x) (for example C(instance-0000000a)), 1 to 64
            letters, digits, C(_), C(.) or C(-), starting with a letter or digit; not C(_base) or C(locks).
        type: str
        required: true
      image_id:
        description: The root disk image, by id or by unique name. Required with O(state=present).
        type: str
      kernel_id:
        description:
          - Kernel image (disk_format V(aki)) by id or unique name. Defaults to the image's
            C(properties.kernel_id); an empty string means no kernel.
        type: str
      ramdisk_id:
        description:
          - Ramdisk image (disk_format V(ari)) by id or unique name. Defaults to the image's
            C(properties.ramdisk_id); an empty string means no ramdisk.
        type: str
      root_gb:
        description:
          - Flavor root disk size in GiB. V(0) keeps the image's size (as m1.tiny). Larger than the image
            backs the disk with a resized base; smaller than the image fails.
        type: int
        default: 0
  state:
    description:
      - V(present) makes the base files and instance files. V(absent) removes the listed instances'
        directories (with everything in them), for delete and rollback.
    type: str
    choices: [present, absent]
    default: present
  cache_cleanup:
    description:
      - Run the age-off (Nova's C(remove_unused_base_images)) after the rest. Base files no instance uses
        (the O(instances) of this call, the instance records in O(facts_path), and the backing files of the
        disks in every instance directory) are removed once older than the minimum age.
    type: bool
    default: false
  original_minimum_age:
    description:
      - Seconds an unused original base (and kernel/ramdisk) is kept (Nova's
        C(remove_unused_original_minimum_age_seconds)).
    type: int
    default: 86400
  resized_minimum_age:
    description:
      - Seconds an unused resized base (or a crash's leftover C(.part)) is kept (Nova's
        C(remove_unused_resized_minimum_age_seconds)).
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
  - With O(controller_catalog), check mode sends nothing and lists in RV(delivery_needed) what a real run would
    send.
  - Verified base files stay in the cache when a later step fails; instance files made by the failed
    run are removed, and no C(.part) or half-converted base is ever left. The failure names the step
    (RV(failed_step)) and lists what was undone (RV(rolled_back)).
requirements:
  - qemu-img (qemu-utils), prlimit (util-linux) on the compute host; e2fsprogs to grow ext filesystems.
extends_documentation_fragment:
  - novalite.compute.attributes
attributes:
  action:
    description: An action plugin reads O(controller_catalog) on the controller and sends the images a host lacks.
    support: full
"""

EXAMPLES = r"""
- name: Prepare the disks of this host's new instances from the catalog file
  novalite.compute.image_cache:
    catalog: /var/tmp/novalite-images/catalog.yml  # its file:// locations must be in /var/tmp/novalite-images
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

- name: Records from inventory; local images only from /srv/images, remote ones only over https
  novalite.compute.image_cache:
    images: "{{ novalite_images }}"
    image_dirs: [/srv/images]
    allowed_schemes: [https]
    instances:
      - name: instance-0000000c
        image_id: debian-12

- name: The catalog and its images on the controller; the host gets the images it does not cache yet
  novalite.compute.image_cache:
    controller_catalog: /srv/images/catalog.yml  # its file:// locations must be in /srv/images or /srv/more
    controller_image_dirs: [/srv/more]
    instances:
      - name: instance-0000000d
        image_id: novalite-test-image
  register: prepared  # prepared.delivered: the image ids sent to this host by this run

- name: Remove a deleted instance's directory and age off unused base files
  novalite.compute.image_cache:
    state: absent
    instances:
      - name: instance-0000000b
    cache_cleanup: true
"""

RETURN = r"""
instances:
  description: Per instance name (O(state=present)), its files and the base files they come from.
  returned: always
  type: dict
  contains:
    instance_dir:
      description: The instance's directory.
      type: str
      sample: /var/lib/novalite/instances/instance-0000000a
    disk:
      description: The qcow2 overlay that is the instance's root disk.
      type: str
      sample: /var/lib/novalite/instances/instance-0000000a/disk
    kernel:
      description: The instance's copy of its kernel, or V(null) when it has none.
      type: str
      sample: /var/lib/novalite/instances/instance-0000000a/kernel
    ramdisk:
      description: The instance's copy of its ramdisk, or V(null) when it has none.
      type: str
      sample: /var/lib/novalite/instances/instance-0000000a/ramdisk
    console_log:
      description: The instance's (empty, mode 0660) C(console.log).
      type: str
      sample: /var/lib/novalite/instances/instance-0000000a/console.log
    image_id:
      description: The id of the root disk image.
      type: str
      sample: 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9
    kernel_id:
      description: The id of the kernel image, or V(null).
      type: str
      sample: 0ef8e9e7-4c68-5189-a840-817fea6291fe
    ramdisk_id:
      description: The id of the ramdisk image, or V(null).
      type: str
      sample: f5e3addd-0d74-5e6a-91ae-c225bbc3e0f6
    root_gb:
      description: The root disk size asked for (V(0) keeps the image's size).
      type: int
      sample: 0
    base_files:
      description: The base files the instance's files come from, V(null) for a file it does not have.
      type: dict
      contains:
        disk:
          description: The base the disk is backed by (the original, or a resized copy C(<sha1>_<root_gb>)).
          type: str
          sample: /var/lib/novalite/instances/_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b
        kernel:
          description: The cached kernel.
          type: str
          sample: /var/lib/novalite/instances/_base/0ef8e9e7-4c68-5189-a840-817fea6291fe
        ramdisk:
          description: The cached ramdisk.
          type: str
          sample: /var/lib/novalite/instances/_base/f5e3addd-0d74-5e6a-91ae-c225bbc3e0f6
      sample:
        disk: /var/lib/novalite/instances/_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b
        kernel: /var/lib/novalite/instances/_base/0ef8e9e7-4c68-5189-a840-817fea6291fe
        ramdisk: /var/lib/novalite/instances/_base/f5e3addd-0d74-5e6a-91ae-c225bbc3e0f6
    created:
      description: The files this run made (in check mode, would make), sorted.
      type: list
      elements: str
      sample: [console.log, disk, kernel, ramdisk]
  sample:
    instance-0000000a:
      instance_dir: /var/lib/novalite/instances/instance-0000000a
      disk: /var/lib/novalite/instances/instance-0000000a/disk
      kernel: /var/lib/novalite/instances/instance-0000000a/kernel
      ramdisk: /var/lib/novalite/instances/instance-0000000a/ramdisk
      console_log: /var/lib/novalite/instances/instance-0000000a/console.log
      image_id: 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9
      kernel_id: 0ef8e9e7-4c68-5189-a840-817fea6291fe
      ramdisk_id: f5e3addd-0d74-5e6a-91ae-c225bbc3e0f6
      root_gb: 0
      base_files:
        disk: /var/lib/novalite/instances/_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b
        kernel: /var/lib/novalite/instances/_base/0ef8e9e7-4c68-5189-a840-817fea6291fe
        ramdisk: /var/lib/novalite/instances/_base/f5e3addd-0d74-5e6a-91ae-c225bbc3e0f6
      created: [console.log, disk, kernel, ramdisk]
base_files:
  description: The base files this run needed to make instance files, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The file's name in C(_base).
      type: str
      sample: 7a59e898ff7f55befd305e3ecf1ad853cb48115b
    path:
      description: The file's path.
      type: str
      sample: /var/lib/novalite/instances/_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b
    role:
      description: What the file is for.
      type: str
      choices: [disk, resized, kernel, ramdisk]
      sample: disk
    image_id:
      description: The image it holds.
      type: str
      sample: 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9
    action:
      description: What this run did with it (in check mode, would do).
      type: str
      choices: [fetched, resized, present]
      sample: fetched
  sample:
    - name: 7a59e898ff7f55befd305e3ecf1ad853cb48115b
      path: /var/lib/novalite/instances/_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b
      role: disk
      image_id: 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9
      action: fetched
delivery_needed:
  description:
    - Ids of images in O(delivered_images) whose base file is missing and whose copy has not arrived from the
      controller (in check mode, that a real run would send). Empty once they are cached.
    - The action plugin sends these and calls the module again, so a task with O(controller_catalog) ends with
      this empty unless it ran in check mode.
  returned: always
  type: list
  elements: str
  sample: [0ef8e9e7-4c68-5189-a840-817fea6291fe, 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9]
delivered:
  description:
    - Ids of the images this run sent from the controller (O(controller_catalog)); empty when the host had them
      all cached, and in check mode.
  returned: when O(controller_catalog) is set
  type: list
  elements: str
  sample: [0ef8e9e7-4c68-5189-a840-817fea6291fe, 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9,
           f5e3addd-0d74-5e6a-91ae-c225bbc3e0f6]
removed_instances:
  description: Instance directories removed (O(state=absent); in check mode, that would be removed).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/novalite/instances/instance-0000000b]
cache_report:
  description: The age-off, one entry per file in C(_base).
  returned: when O(cache_cleanup=true)
  type: dict
  contains:
    kept:
      description: The files that stay.
      type: list
      elements: dict
      contains: &age_off_entry
        name:
          description: The file's name in C(_base).
          type: str
          sample: 7a59e898ff7f55befd305e3ecf1ad853cb48115b
        path:
          description: The file's path.
          type: str
          sample: /var/lib/novalite/instances/_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b
        kind:
          description: What the file is, by its name (an unknown file is never removed).
          type: str
          choices: [original, resized, temporary, unknown]
          sample: original
        reason:
          description: Why it stays or goes.
          type: str
          sample: in use by instance-0000000a
      sample:
        - name: 7a59e898ff7f55befd305e3ecf1ad853cb48115b
          path: /var/lib/novalite/instances/_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b
          kind: original
          reason: in use by instance-0000000a
    removed:
      description: The files removed (in check mode, that would be removed), with the fields of RV(cache_report.kept).
      type: list
      elements: dict
      contains: *age_off_entry
      sample:
        - name: 7a59e898ff7f55befd305e3ecf1ad853cb48115b_1
          path: /var/lib/novalite/instances/_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b_1
          kind: resized
          reason: unused for 7200 s (minimum age 3600 s)
  sample:
    kept:
      - name: 7a59e898ff7f55befd305e3ecf1ad853cb48115b
        path: /var/lib/novalite/instances/_base/7a59e898ff7f55befd305e3ecf1ad853cb48115b
        kind: original
        reason: in use by instance-0000000a
    removed: []
failed_step:
  description: On failure during apply, the step that failed.
  returned: failure
  type: str
  sample: make the disk of instance-0000000a
rolled_back:
  description: On failure during apply, what was undone, newest first.
  returned: failure
  type: list
  elements: str
  sample: [remove /var/lib/novalite/instances/instance-0000000a/console.log]
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
    controller_catalog=dict(type="path"),
    controller_image_dirs=dict(type="list", elements="path"),
    delivered_images=dict(type="list", elements="str", default=[]),
    images=dict(type="list", elements="dict"),
    image_dirs=dict(type="list", elements="path"),
    allowed_schemes=dict(type="list", elements="str", choices=["http", "https"], default=["http", "https"]),
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


MUTUALLY_EXCLUSIVE = [("catalog", "images"), ("catalog", "controller_catalog"), ("images", "controller_catalog"),
                      ("image_dirs", "controller_catalog"), ("delivered_images", "controller_catalog")]
REQUIRED_BY = {"controller_image_dirs": "controller_catalog"}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE, required_by=REQUIRED_BY,
                           supports_check_mode=True)
    run_module(module, ensure_state)


if __name__ == "__main__":
    main()
