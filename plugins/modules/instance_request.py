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
  - Checks the request as Nova's C(nova/compute/api.py) C(API._validate_and_provision_instance) did.
    It looks up the flavor and the image, refuses a flavor below the image's C(min_ram) or C(min_disk)
    and an image larger than the flavor's root disk, checks the project's quotas (instances, cores,
    ram, metadata items, injected files) counted from the instance records in every compute host's
    facts, and builds one record per missing instance (uuid, C(instance-%08x) name, reservation id,
    vm_state V(building)).
  - Every field is checked here with the functions the modules apply on the hosts, so a bad field fails
    before anything is allocated. The display name must be one line without control characters, of 1 to
    255 characters, and must give a hostname (Nova's C(sanitize_hostname)); O(key_data), O(admin_password),
    O(project_id), O(user_id) and every metadata key and value must be one line; security groups must be
    defined in O(security_group_definitions) (or be C(default)) and every rule of those definitions is
    checked as M(novalite.compute.nwfilter) checks it; the network definition (O(networks)) is checked as
    M(novalite.compute.nova_network) checks it; the image, its kernel and its ramdisk must be in the catalog
    with a location a compute host may read (a local file only inside O(image_dirs), other locations only with
    a scheme of O(image_schemes)), as M(novalite.compute.image_cache) checks it.
  - Instances that already exist (same project and display name) are returned unchanged, so asking
    again for the same name is a no-op.
  - Instance ids are handed out under a controller lock and remembered in a ledger in O(state_dir),
    so two runs started together never give two instances the same name. Check mode writes no ledger entry.
  - Fails before anything is allocated, naming the cause.
options:
  name:
    description: Display name; with O(count) > 1 the instances are C(name-1) ... C(name-N).
    type: str
    required: true
  count:
    description: How many instances there should be (at least 1).
    type: int
    default: 1
  flavor:
    description: Flavor name or flavorid.
    type: str
    default: m1.tiny
  flavors:
    description:
      - Flavors to add to (or replace among) Nova's defaults V(m1.tiny) to V(m1.xlarge), by name.
      - Each has C(memory_mb), C(vcpus), C(root_gb) and optionally C(ephemeral_gb), C(swap), C(rxtx_factor),
        C(flavorid), C(is_public), C(disabled), C(vcpu_weight) and C(extra_specs).
    type: dict
    default: {}
  image:
    description: Image id or unique name in the catalog.
    type: str
    required: true
  catalog:
    description: Path on the controller of the image catalog (YAML or JSON). Exclusive with O(images).
    type: path
  images:
    description: The image catalog as a list of records. Exclusive with O(catalog).
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
    description:
      - Instance metadata (at most C(metadata_items) pairs; keys of 1 to 255 characters, values of at most 255).
    type: dict
    default: {}
  key_data:
    description: An SSH public key for the guest (placed on the config drive).
    type: str
  user_data:
    description: User data text; only checked here (at most 65535 bytes once base64-encoded), never returned.
    type: str
  admin_password:
    description:
      - Only tells whether a config drive is needed, and is checked to be one line; never stored, returned or
        shown in a message.
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
    description:
      - Whether the instances get a config drive.
      - By default they get one when O(user_data), O(key_data), O(admin_password) or O(injected_files) is given.
    type: bool
  security_groups:
    description: Security group names; each must be in O(security_group_definitions) or be C(default).
    type: list
    elements: str
    default: [default]
  security_group_definitions:
    description:
      - The security group definitions the hosts will be given (C(name), C(rules)), as the O(novalite.compute.nwfilter#module:security_groups)
        option of M(novalite.compute.nwfilter) takes them; every group and rule is checked here.
      - C(default) is Nova's default group (icmp, tcp 22, tcp 80) unless defined here.
    type: list
    elements: dict
    default: []
  network:
    description: Label of the network the instances join.
    type: str
    default: private
  networks:
    description:
      - Network definitions by label, each as the O(novalite.compute.nova_network#module:network) option of
        M(novalite.compute.nova_network) takes it.
      - When given, O(network) must be one of them and its definition is checked, and returned as RV(network).
    type: dict
  image_dirs:
    description:
      - Directories on the controller besides the directory of O(catalog) where an image location that is a local
        file (an absolute path or a C(file://) URL) may lie, once symlinks and C(..) are resolved.
    type: list
    elements: path
    default: []
  image_schemes:
    description: URL schemes an image location may use besides local files.
    type: list
    elements: str
    choices: [http, https]
    default: [http, https]
  availability_zone:
    description: Availability zone the scheduler must choose from.
    type: str
  target_host:
    description: Compute host the scheduler must choose.
    type: str
  group:
    description:
      - Server group the new instances join (Nova's C(group) scheduler hint); kept in their records as
        C(server_group) and C(server_group_policy), and the scheduler applies its policy.
      - Its policy is O(group_policy), or for a group that has members already, the policy those have; a different
        O(group_policy) is refused, as a group's policy cannot change.
      - With policy V(anti-affinity), more members (existing and new) than O(hosts) is refused here, before anything
        is allocated, naming the group and the number of hosts.
    type: str
  group_policy:
    description:
      - The policy of a new server group O(group). V(affinity) puts every member on one host
        (ServerGroupAffinityFilter), V(anti-affinity) each on a host of its own (ServerGroupAntiAffinityFilter).
    type: str
    choices: [affinity, anti-affinity]
  quotas:
    description: Project quota limits replacing Nova's defaults (V(-1) is unlimited).
    type: dict
    default: {}
  hosts:
    description:
      - The compute hosts whose facts hold the instance records (their C(ansible_local) must be gathered).
      - O(target_host), when given, must be one of them.
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
  description:
    - Every requested instance, existing ones first, as instance records.
    - New records have vm_state V(building), task_state V(scheduling) and no C(host) yet.
  type: list
  elements: dict
  returned: success
  sample:
    - uuid: 8383fb3d-7dcf-4203-b639-14c617b55259
      id: 1
      name: instance-00000001
      display_name: web-1
      hostname: web-1
      project_id: demo
      user_id: admin
      host: null
      vm_state: building
      task_state: scheduling
      reservation_id: r-3kq0xz7a
  contains:
    uuid:
      description: The instance's uuid.
      type: str
      sample: 8383fb3d-7dcf-4203-b639-14c617b55259
    id:
      description: Its number, after every id in use or reserved.
      type: int
      sample: 1
    name:
      description: Its libvirt name, C(instance-%08x) of the id.
      type: str
      sample: instance-00000001
    display_name:
      description: O(name), or C(name-N) in a batch.
      type: str
      sample: web-1
    hostname:
      description: The display name as a DNS label (Nova's C(sanitize_hostname)).
      type: str
      sample: web-1
    flavor:
      description: The flavor, as RV(flavor).
      type: dict
      sample: {name: m1.tiny, memory_mb: 512, vcpus: 1, root_gb: 0}
      contains:
        name: {description: The flavor's name., type: str, sample: m1.tiny}
        memory_mb: {description: RAM in MB., type: int, sample: 512}
        vcpus: {description: Virtual CPUs., type: int, sample: 1}
        root_gb: {description: Root disk size (V(0) keeps the image's size)., type: int, sample: 0}
    image_ref:
      description: The image's id.
      type: str
      sample: 66c50770-21a4-46ce-85ee-392f29b05081
    kernel_id:
      description: The image's kernel image id, for AMI-style images.
      type: str
      sample: null
    ramdisk_id:
      description: The image's ramdisk image id, for AMI-style images.
      type: str
      sample: null
    reservation_id:
      description: One per request (Nova's C(r-) and eight characters).
      type: str
      sample: r-3kq0xz7a
    host:
      description: The compute host, null until M(novalite.compute.schedule_instances) chooses one.
      type: str
      sample: null
    vm_state:
      description: Nova's vm state.
      type: str
      sample: building
    security_groups:
      description: O(security_groups).
      type: list
      elements: str
      sample: [default]
    config_drive:
      description: Whether the instance gets a config drive (see O(config_drive)).
      type: bool
      sample: false
created:
  description: Uuids of the new instance records.
  type: list
  elements: str
  returned: success
  sample: [8383fb3d-7dcf-4203-b639-14c617b55259]
existing:
  description: Uuids of the instances that already existed.
  type: list
  elements: str
  returned: success
  sample: []
flavor:
  description: The resolved flavor, every field completed.
  type: dict
  returned: success
  sample: {name: m1.tiny, id: 4, flavorid: "1", memory_mb: 512, vcpus: 1, root_gb: 0, ephemeral_gb: 0, swap: 0,
           rxtx_factor: 1.0, is_public: true, disabled: false, vcpu_weight: null, extra_specs: {}}
  contains:
    name:
      description: The flavor's name.
      type: str
      sample: m1.tiny
    flavorid:
      description: Its flavorid.
      type: str
      sample: "1"
    memory_mb:
      description: RAM of each instance.
      type: int
      sample: 512
    vcpus:
      description: Virtual CPUs of each instance.
      type: int
      sample: 1
    root_gb:
      description: Root disk size (V(0) keeps the image's own size).
      type: int
      sample: 0
    ephemeral_gb:
      description: Ephemeral disk size.
      type: int
      sample: 0
    swap:
      description: Swap size in MB.
      type: int
      sample: 0
image:
  description: The image's catalog record.
  type: dict
  returned: success
  sample: {id: 66c50770-21a4-46ce-85ee-392f29b05081, name: novalite-test-image, status: active, disk_format: qcow2,
           container_format: bare, size: 25165824, min_ram: 0, min_disk: 0, properties: {}}
  contains:
    id:
      description: The image's id.
      type: str
      sample: 66c50770-21a4-46ce-85ee-392f29b05081
    name:
      description: Its name.
      type: str
      sample: novalite-test-image
    disk_format:
      description: Glance's disk format.
      type: str
      sample: qcow2
    size:
      description: Its size in bytes.
      type: int
      sample: 25165824
    properties:
      description: Its properties (Glance's image properties; those below are the ones read here).
      type: dict
      sample: {}
      contains:
        kernel_id: {description: The kernel image of an AMI-style image., type: str, sample: null}
        ramdisk_id: {description: The ramdisk image of an AMI-style image., type: str, sample: null}
        architecture: {description: Matched by the scheduler's image properties filter., type: str, sample: x86_64}
        hypervisor_type: {description: Matched by the scheduler's image properties filter., type: str, sample: qemu}
network:
  description:
    - The checked definition of network O(network), every field filled in (null without O(networks)).
    - The network step is given this definition, never the inventory's again.
  type: dict
  returned: success
  sample: {uuid: e011b388-163b-4080-a083-bb63ebed7f6a, label: private, cidr: 10.1.0.0/16, gateway: 10.1.0.1,
           dhcp_start: 10.1.0.2, netmask: 255.255.0.0, broadcast: 10.1.255.255, dns1: 8.8.4.4, dns2: null,
           bridge: br100, bridge_interface: eth0, multi_host: true, project_id: null, vlan: null, reserved: [],
           dhcp_domain: novalocal}
  contains:
    uuid:
      description: The network's uuid.
      type: str
      sample: e011b388-163b-4080-a083-bb63ebed7f6a
    label:
      description: Its label.
      type: str
      sample: private
    cidr:
      description: Its IPv4 network.
      type: str
      sample: 10.1.0.0/16
    bridge:
      description: The Linux bridge its instances are plugged into.
      type: str
      sample: br100
security_group_definitions:
  description: O(security_group_definitions) as checked, for the step that defines the groups' filters.
  type: list
  elements: dict
  returned: success
  sample: [{name: web, rules: [{protocol: tcp, port: 443}]}]
  contains:
    name: {description: The group's name., type: str, sample: web}
    rules:
      description: Its rules, as O(novalite.compute.nwfilter#module:security_groups[].rules) takes them.
      type: list
      elements: dict
      sample: [{protocol: tcp, port: 443}]
      contains:
        protocol: {description: 'V(tcp), V(udp) or V(icmp).', type: str, sample: tcp}
        port: {description: One destination port (or C(port_range_min) and C(port_range_max) for a range)., type: int, sample: 443}
"""
