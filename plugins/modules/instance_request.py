#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: instance_request
short_description: Check a create request and build the new instance records (Nova's compute api)
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin); run it once per play, delegated to localhost.
  - Looks up the flavor and the image, refuses a flavor below the image's C(min_ram) or C(min_disk)
    and an image larger than the flavor's root disk, checks the project's quotas (instances, cores,
    ram, metadata items, injected files) counted from the instance records in every compute host's
    facts, and builds one record per missing instance (uuid, C(instance-%08x) name, reservation id,
    vm_state building).
  - Instances that already exist (same project and display name) are returned unchanged, so asking
    again for the same name is a no-op.
  - Instance ids are handed out under a controller lock and remembered in a ledger, so two runs
    started together never give two instances the same name.
  - Fails before anything is allocated, naming the cause.
options:
  name:
    description: Display name; with I(count) > 1 the instances are C(name-1) ... C(name-N).
    type: str
    required: true
  count:
    description: How many instances there should be.
    type: int
    default: 1
  flavor:
    description: Flavor name or flavorid.
    type: str
    default: m1.tiny
  flavors:
    description:
      - Flavors to add to (or replace among) Nova's defaults m1.tiny to m1.xlarge, by name.
      - Each has memory_mb, vcpus, root_gb and optionally ephemeral_gb, swap, rxtx_factor, flavorid, disabled.
    type: dict
    default: {}
  image:
    description: Image id or unique name in the catalog.
    type: str
    required: true
  catalog:
    description: Path on the controller of the image catalog (YAML or JSON). Exclusive with I(images).
    type: path
  images:
    description: The image catalog as a list of records. Exclusive with I(catalog).
    type: list
    elements: dict
  project_id:
    description: Project (tenant) the instances belong to; quotas are counted per project.
    type: str
    required: true
  user_id:
    description: User creating the instances.
    type: str
    required: true
  metadata:
    description: Instance metadata (at most C(metadata_items) pairs of up to 255 characters).
    type: dict
    default: {}
  key_data:
    description: An SSH public key for the guest (placed on the config drive).
    type: str
  user_data:
    description: User data text; only checked here (size), never returned.
    type: str
  admin_password:
    description: Only tells whether a config drive is needed; never stored or returned.
    type: str
  injected_files:
    description: Files for the guest, checked against the injected file quotas.
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
  config_drive:
    description: Whether the instances get a config drive; by default when I(user_data), I(key_data),
      I(admin_password) or I(injected_files) is given.
    type: bool
  security_groups:
    description: Security group names.
    type: list
    elements: str
    default: [default]
  network:
    description: Label of the network the instances join.
    type: str
    default: private
  availability_zone:
    description: Availability zone the scheduler must choose from.
    type: str
  target_host:
    description: Compute host the scheduler must choose.
    type: str
  quotas:
    description: Project quota limits replacing Nova's defaults (-1 is unlimited).
    type: dict
    default: {}
  hosts:
    description: The compute hosts whose facts hold the instance records (their C(ansible_local) must be gathered).
    type: list
    elements: str
    required: true
  state_dir:
    description: Controller directory of the lock and the reservation ledger.
    type: path
    default: ~/.ansible/novalite
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes.controller
"""

EXAMPLES = r"""
- name: Check the request and build the instance records
  novalite.compute.instance_request:
    name: web
    count: 3
    flavor: m1.small
    image: novalite-test-image
    catalog: /srv/images/catalog.yml
    project_id: demo
    user_id: admin
    hosts: "{{ groups['compute'] }}"
  run_once: true
  delegate_to: localhost
  register: request
"""

RETURN = r"""
instances:
  description: Every requested instance, existing ones first, as instance records (host unset for new ones).
  type: list
  elements: dict
  returned: success
created:
  description: Uuids of the new instance records.
  type: list
  elements: str
  returned: success
existing:
  description: Uuids of the instances that already existed.
  type: list
  elements: str
  returned: success
flavor:
  description: The resolved flavor.
  type: dict
  returned: success
image:
  description: The image's catalog record.
  type: dict
  returned: success
"""
