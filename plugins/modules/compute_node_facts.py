#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compute_node_facts
short_description: Set a compute host's capacity and usage as a fact (Nova's resource tracker)
version_added: 0.1.0
description:
  - Reads the hypervisor's totals from libvirt over a read-only connection (CPU architecture, memory,
    vcpus, hypervisor type and version, whether libvirt has its nwfilter driver), the size of the file
    system holding O(instances_path), and counts usage from the instance records in this host's facts
    document, as Nova's resource tracker (C(nova/compute/resource_tracker.py)) did.
  - Sets the fact C(novalite_compute_node) (the compute node record, Nova's C(compute_nodes) row), which
    M(novalite.compute.schedule_instances) reads from every compute host's C(ansible_facts).
  - With O(local_facts), also sets C(ansible_local.novalite), the facts document as
    M(ansible.builtin.setup) with O(ansible.builtin.setup#module:gather_subset) V(local) reads it, so that
    one call reads the host for the controller steps; with O(host_state), also sets
    C(novalite_host_state), how the host compares with its records, as Nova's C(init_host) compared
    them, so that a create whose instances all exist and run can skip its build.
  - Changes nothing on the host.
  - This module was called C(novalite.compute.compute_node_info); that name still works and leads here.
options:
  uri:
    description: libvirt connection URI.
    type: str
    default: qemu:///system
  instances_path:
    description: Where instance disks live; its file system is the host's local disk.
    type: path
    default: /var/lib/novalite/instances
  facts_path:
    description: The host's facts document, whose instance records give the usage.
    type: path
    default: /etc/ansible/facts.d/novalite.fact
  networks_path:
    description: Where the networks' dnsmasq and metadata server files live (read with O(host_state)).
    type: path
    default: /var/lib/novalite/networks
  local_facts:
    description:
      - Also set C(ansible_local.novalite) to the facts document (C(ansible_local) empty when there is
        none), as M(ansible.builtin.setup) with O(ansible.builtin.setup#module:gather_subset) V(local) would.
        Local facts of other files are left out.
    type: bool
    default: false
  host_state:
    description:
      - Also set RV(ansible_facts.novalite_host_state), how the host compares with its records. Each
        recorded instance's domain power state from libvirt, what of the host's network differs from
        its records (the probes of M(novalite.compute.nova_network)'s plan; nothing is changed), and
        the instances in place.
    type: bool
    default: false
  reserved_host_memory_mb:
    description: Memory kept for the host itself, counted as used (Nova's default 512).
    type: int
    default: 512
  reserved_host_disk_mb:
    description: Disk kept for the host itself, counted as used.
    type: int
    default: 0
requirements:
  - libvirt-python (python3-libvirt) on the compute host
author:
  - novalite.compute contributors (@novalite)
extends_documentation_fragment:
  - novalite.compute.attributes.info
"""

EXAMPLES = r"""
- name: Set this host's capacity and usage for the scheduler
  novalite.compute.compute_node_facts:
    uri: "{{ novalite_libvirt_uri | default('qemu:///system') }}"

- name: Read this host's records, capacity and state in one call (as role host_records does)
  novalite.compute.compute_node_facts:
    local_facts: true
    host_state: true

- name: Refuse a host whose libvirt has no nwfilter driver
  ansible.builtin.assert:
    that: ansible_facts.novalite_compute_node.nwfilter_driver
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: success
  type: dict
  sample: {novalite_compute_node: {hypervisor_hostname: compute1, memory_mb: 7940, free_ram_mb: 6916, running_vms: 1}}
  contains:
    novalite_compute_node:
      description: The compute node record, as Nova's C(compute_nodes) row.
      type: dict
      returned: success
      sample:
        cpu_arch: x86_64
        memory_mb: 7940
        memory_mb_used: 1024
        free_ram_mb: 6916
        vcpus: 2
        vcpus_used: 1
        local_gb: 250
        local_gb_used: 0
        free_disk_gb: 180
        hypervisor_type: QEMU
        hypervisor_version: 7002000
        hypervisor_hostname: compute1
        nwfilter_driver: true
        running_vms: 1
        instances: [8383fb3d-7dcf-4203-b639-14c617b55259]
      contains:
        cpu_arch:
          description: The host's CPU architecture, as libvirt reports it.
          type: str
          sample: x86_64
        memory_mb:
          description: The host's memory.
          type: int
          sample: 7940
        memory_mb_used:
          description: O(reserved_host_memory_mb) plus the memory of the flavors of the host's instances.
          type: int
          sample: 1024
        free_ram_mb:
          description: RV(ansible_facts.novalite_compute_node.memory_mb) less
            RV(ansible_facts.novalite_compute_node.memory_mb_used).
          type: int
          sample: 6916
        vcpus:
          description: The host's CPUs.
          type: int
          sample: 2
        vcpus_used:
          description: The vcpus of the flavors of the host's instances.
          type: int
          sample: 1
        local_gb:
          description: The size of the file system holding O(instances_path), in GiB.
          type: int
          sample: 250
        local_gb_used:
          description:
            - O(reserved_host_disk_mb) plus the root and ephemeral disks of the flavors of the host's instances, in GiB.
          type: float
          sample: 0
        free_disk_gb:
          description: What that file system has free now, in GiB.
          type: int
          sample: 180
        hypervisor_type:
          description: libvirt's driver type (V(QEMU) for both KVM and TCG guests).
          type: str
          sample: QEMU
        hypervisor_version:
          description: The hypervisor's version as libvirt encodes it (major * 1000000 + minor * 1000 + release).
          type: int
          sample: 7002000
        hypervisor_hostname:
          description: The host's node name.
          type: str
          sample: compute1
        nwfilter_driver:
          description: Whether libvirt has its nwfilter driver (without it, no anti-spoofing filters).
          type: bool
          sample: true
        running_vms:
          description: How many instances (every vm state but deleted) the host has.
          type: int
          sample: 1
        instances:
          description: Their uuids.
          type: list
          elements: str
          sample: [8383fb3d-7dcf-4203-b639-14c617b55259]
    ansible_local:
      description: With O(local_facts), the host's facts document as C(ansible_local.novalite).
      type: dict
      returned: when O(local_facts) is true
      sample: {novalite: {schema_version: 1, instances: {}, networks: {}, fixed_ips: {}}}
      contains:
        novalite:
          description: The facts document; its sections (instances, networks, fixed_ips, ...) are in the collection's docs/contracts.md.
          type: dict
          sample: {schema_version: 1, instances: {}, networks: {}, fixed_ips: {}}
          contains:
            schema_version:
              description: The document's schema version.
              type: int
              sample: 1
    novalite_host_state:
      description: With O(host_state), how the host compares with its records.
      type: dict
      returned: when O(host_state) is true
      sample:
        power_states: {8383fb3d-7dcf-4203-b639-14c617b55259: 1}
        network_changes: []
        in_place: [8383fb3d-7dcf-4203-b639-14c617b55259]
      contains:
        power_states:
          description: Nova's power state of each live instance's domain (V(1) running, V(0) when libvirt has none).
          type: dict
          sample: {8383fb3d-7dcf-4203-b639-14c617b55259: 1}
          contains:
            <uuid>:
              description: The instance's power state.
              type: int
              sample: 1
        network_changes:
          description:
            - What of the host's network is not as its records say (a bridge, V(ip_forward), V(iptables),
              V(metadata address), V(floating addresses), a network's dnsmasq or metadata server); empty when all is.
          type: list
          elements: str
          sample: [iptables]
        in_place:
          description:
            - The instances recorded active with no task in progress whose domains run, when the host's
              network is as recorded (none otherwise); a create run has nothing to do for them.
          type: list
          elements: str
          sample: [8383fb3d-7dcf-4203-b639-14c617b55259]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_FACTS_PATH, DEFAULT_INSTANCES_PATH, DEFAULT_LIBVIRT_URI, DEFAULT_NETWORKS_PATH)
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.compute.resource_tracker import compute_node_facts

ARGUMENT_SPEC = {
    "uri": {"type": "str", "default": DEFAULT_LIBVIRT_URI},
    "instances_path": {"type": "path", "default": DEFAULT_INSTANCES_PATH},
    "facts_path": {"type": "path", "default": DEFAULT_FACTS_PATH},
    "networks_path": {"type": "path", "default": DEFAULT_NETWORKS_PATH},
    "local_facts": {"type": "bool", "default": False},
    "host_state": {"type": "bool", "default": False},
    "reserved_host_memory_mb": {"type": "int", "default": 512},
    "reserved_host_disk_mb": {"type": "int", "default": 0},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, compute_node_facts)


if __name__ == "__main__":
    main()
