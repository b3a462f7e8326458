#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compute_node_info
short_description: Report a compute host's capacity and usage (Nova's resource tracker)
version_added: 0.1.0
description:
  - Reads the hypervisor's totals from libvirt (CPU architecture, memory, vcpus, hypervisor type),
    the size of the file system holding I(instances_path), and counts usage from the instance records
    in this host's facts, as Nova's resource tracker did.
  - Sets the fact C(novalite_compute_node), which M(novalite.compute.schedule_instances) filters on.
  - Changes nothing on the host.
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
    description: The host's facts document.
    type: path
    default: /etc/ansible/facts.d/novalite.fact
  reserved_host_memory_mb:
    description: Memory kept for the host itself (Nova's default 512).
    type: int
    default: 512
  reserved_host_disk_mb:
    description: Disk kept for the host itself.
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
- name: Report capacity and usage for the scheduler
  novalite.compute.compute_node_info:
    uri: "{{ novalite_libvirt_uri | default('qemu:///system') }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: success
  type: dict
  contains:
    novalite_compute_node:
      description:
        - The compute node record, as Nova's compute_nodes row, with cpu_arch, memory_mb, memory_mb_used,
          free_ram_mb, vcpus, vcpus_used, local_gb, local_gb_used, free_disk_gb, hypervisor_type,
          hypervisor_version, hypervisor_hostname, nwfilter_driver (whether libvirt has one), running_vms
          and the uuids of the host's instances.
      type: dict
      returned: success
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_FACTS_PATH, DEFAULT_INSTANCES_PATH, DEFAULT_LIBVIRT_URI)
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.compute.resource_tracker import (
    NODE_FACT, compute_node, disk_totals, has_nwfilter_driver, hypervisor_totals)
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import libvirt, libvirt_connection

ARGUMENT_SPEC = {
    "uri": {"type": "str", "default": DEFAULT_LIBVIRT_URI},
    "instances_path": {"type": "path", "default": DEFAULT_INSTANCES_PATH},
    "facts_path": {"type": "path", "default": DEFAULT_FACTS_PATH},
    "reserved_host_memory_mb": {"type": "int", "default": 512},
    "reserved_host_disk_mb": {"type": "int", "default": 0},
}


def hypervisor_report(uri):
    """The hypervisor's totals and whether it has an nwfilter driver, over a read-only connection."""
    with libvirt_connection(uri, read_only=True) as conn:
        totals = hypervisor_totals(conn)
        totals["nwfilter_driver"] = has_nwfilter_driver(conn)
    return totals


def report_node(module):
    if libvirt is None:
        module.fail_json(msg=missing_required_lib("libvirt-python (python3-libvirt)"))
    params = module.params
    totals = hypervisor_report(params["uri"])
    local_gb, free_disk_gb = disk_totals(params["instances_path"])
    instances = FactsStore(params["facts_path"]).load()["instances"].values()
    node = compute_node(totals, local_gb, free_disk_gb, instances,
                        params["reserved_host_memory_mb"], params["reserved_host_disk_mb"])
    return {"changed": False, "ansible_facts": {NODE_FACT: node}}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, report_node)


if __name__ == "__main__":
    main()
