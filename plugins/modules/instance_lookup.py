#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_lookup
short_description: Find instances by name or uuid and check that an action is allowed for all of them
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin); run it once per play, on localhost, after the compute hosts'
    facts were gathered (role C(novalite.compute.host_records), C(tasks_from=facts)).
  - Finds the project's instances that O(name) means in every compute host's records (C(ansible_local.novalite)),
    that is the instance whose display name is O(name), those of a batch (C(name-1) ... C(name-N)), or the one whose
    uuid is O(name). Fails, naming the name, the project and the hosts, when there is none.
  - With O(action), checks that the action is allowed for every one of them, as Nova's compute api did
    (C(check_instance_state)) before any host acts; a batch with one instance that may not do it is refused whole,
    naming that instance and its vm_state or task_state. The same checks run again on each host.
  - With O(action=rebuild), also checks the image each disk is recreated from (O(image), or each instance's own)
    as a create checks it (status active, C(min_ram) and C(min_disk), its size against the flavor's root disk, its
    location and those of its kernel and ramdisk), and returns the records with the new image fields.
options:
  name:
    description: A display name (the batch C(name-1) ... C(name-N) is found too) or an instance uuid.
    type: str
    required: true
  project_id:
    description: The project whose instances are meant.
    type: str
    required: true
  hosts:
    description: The compute hosts whose records are read.
    type: list
    elements: str
    required: true
  action:
    description: The action to check the instances' states for; none only finds them.
    type: str
    choices: [stop, start, reboot, pause, unpause, suspend, resume, rebuild, snapshot]
  reboot_type:
    description: With O(action=reboot), V(soft) (allowed in vm_state active) or V(hard) (also in stopped, paused,
      suspended and error, and whatever the task state).
    type: str
    choices: [soft, hard]
    default: soft
  image:
    description: With O(action=rebuild), the image (id or name) to rebuild from; by default the instances' own.
    type: str
  image_name:
    description:
      - With O(action=snapshot), the name of the new image for one instance; each instance of a batch gets
        C(<image_name>-<display name>). Without it an image is named C(<display name>-snapshot).
    type: str
  catalog:
    description: With O(action=rebuild), the image catalog on the controller (as for M(novalite.compute.instance_request)).
    type: path
  images:
    description: With O(action=rebuild), the catalog as a list of image records instead of O(catalog).
    type: list
    elements: dict
  image_dirs:
    description: Directories besides the catalog's own where a local image location may lie.
    type: list
    elements: path
    default: []
  image_schemes:
    description: The URL schemes remote image locations may use.
    type: list
    elements: str
    choices: [http, https]
    default: [http, https]
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes.controller
"""

EXAMPLES = r"""
- name: Find web, web-1 ... web-N and check that they may be stopped
  novalite.compute.instance_lookup:
    name: web
    project_id: default
    hosts: "{{ groups['compute'] }}"
    action: stop
  register: lookup
"""

RETURN = r"""
instances:
  description: The instance records found, sorted by display name (for a rebuild, with the new image fields).
  type: list
  elements: dict
  returned: success
  sample:
    - uuid: 8383fb3d-7dcf-4203-b639-14c617b55259
      display_name: web-1
      host: compute1
      vm_state: active
  contains:
    uuid:
      description: The instance's uuid.
      type: str
      sample: 8383fb3d-7dcf-4203-b639-14c617b55259
    display_name:
      description: Its display name.
      type: str
      sample: web-1
    host:
      description: The compute host that records it.
      type: str
      sample: compute1
by_host:
  description: The same records by compute host.
  type: dict
  returned: success
  sample: {compute1: [{uuid: 8383fb3d-7dcf-4203-b639-14c617b55259, display_name: web-1}]}
  contains:
    <host>:
      description: The instance records of RV(instances) that this compute host records.
      type: list
      elements: dict
      sample: [{uuid: 8383fb3d-7dcf-4203-b639-14c617b55259, display_name: web-1, host: compute1}]
      contains:
        uuid: {description: The instance's uuid., type: str, sample: 8383fb3d-7dcf-4203-b639-14c617b55259}
        display_name: {description: Its display name., type: str, sample: web-1}
hosts_used:
  description: The compute hosts that have at least one of the instances.
  type: list
  elements: str
  returned: success
  sample: [compute1, compute2]
to_do:
  description: Uuids of the instances the action has something to do for, by their records.
  type: list
  elements: str
  returned: success
  sample: [8383fb3d-7dcf-4203-b639-14c617b55259]
unchanged:
  description: Uuids of the instances already where a state-like action (stop, start, pause, suspend) leads.
  type: list
  elements: str
  returned: success
  sample: []
snapshot_names:
  description: With O(action=snapshot), the name of each instance's new image, by uuid; otherwise empty.
  type: dict
  returned: success
  sample: {8383fb3d-7dcf-4203-b639-14c617b55259: web-1-snapshot}
  contains:
    <uuid>:
      description: The name the instance's snapshot image gets.
      type: str
      sample: web-1-snapshot
images:
  description: With O(action=rebuild), by instance uuid, the image record its disk is recreated from; otherwise empty.
  type: dict
  returned: success
  sample: {8383fb3d-7dcf-4203-b639-14c617b55259: {id: 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9, name: novalite-test-image}}
  contains:
    <uuid>:
      description: The catalog's image record (the fields of O(images)).
      type: dict
      sample: {id: 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9, name: novalite-test-image}
      contains:
        id: {description: The image's id., type: str, sample: 6172f6e7-9eb4-54c3-9a3e-e53169eb01b9}
        name: {description: Its name., type: str, sample: novalite-test-image}
"""
