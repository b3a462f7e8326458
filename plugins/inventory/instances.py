# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: instances
short_description: The instances novalite.compute created, as inventory
version_added: 0.1.0
description:
  - Lists the instances recorded in the compute hosts' facts (C(ansible_local.novalite.instances)),
    read from Ansible's fact cache, where C(create_vm.yml) and C(delete_vm.yml) leave them.
  - Each instance is a host named by its display name (its C(instance-%08x) name when two share a
    display name), with C(ansible_host) set to its floating IP when it has one (see O(use_floating_ip)),
    else to its fixed IP.
  - Groups C(novalite_instances), C(compute_<host>), C(flavor_<flavor>), C(image_<image>), C(project_<project>),
    C(vm_state_<vm state>) (C(vm_state_active), C(vm_state_stopped), C(vm_state_paused), C(vm_state_suspended), ...),
    C(power_state_<power state>) (Nova's names, C(power_state_running), C(power_state_shutdown), C(power_state_paused),
    ...) and, for members of a server group, C(server_group_<group>); O(keyed_groups), O(groups) and O(compose) add
    more.
  - Each host has the variables C(novalite_instance) (the whole instance record), C(novalite_compute_host),
    C(novalite_fixed_ip), C(novalite_floating_ip) (null when it has none), C(novalite_flavor),
    C(novalite_project_id), C(novalite_image), C(novalite_vm_state), C(novalite_power_state) (Nova's name of the
    power state) and C(novalite_task_state).
  - The source file must end in C(novalite.yml) or C(novalite.yaml).
extends_documentation_fragment:
  - ansible.builtin.constructed
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [novalite.compute.instances]
  fact_cache_plugin:
    description: The cache plugin holding the compute hosts' facts (Ansible's C(fact_caching)).
    type: str
    default: ansible.builtin.jsonfile
  fact_cache_connection:
    description: Where that cache keeps its data (Ansible's C(fact_caching_connection)).
    type: str
    default: ~/.ansible/novalite/fact_cache
    env:
      - name: ANSIBLE_CACHE_PLUGIN_CONNECTION
  compute_hosts:
    description: Only instances on these compute hosts (by default every host in the cache).
    type: list
    elements: str
    default: []
  vm_states:
    description: Only instances in these vm states.
    type: list
    elements: str
    default: [active, building, error, stopped, paused, suspended, resized]
  use_floating_ip:
    description:
      - Set C(ansible_host) to the instance's floating IP when it has one (reachable from the LAN); V(false)
        always uses the fixed IP (reachable from its compute host).
    type: bool
    default: true
"""

EXAMPLES = r"""
# instances.novalite.yml
plugin: novalite.compute.instances
keyed_groups:
  - key: novalite_instance.metadata.role | default('none')
    prefix: role
compose:
  ansible_user: "'root'"

# ansible-inventory -i instances.novalite.yml --graph
"""

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible.plugins.loader import cache_loader

from ansible_collections.novalite.compute.plugins.plugin_utils.instance_inventory import (
    instance_hosts)


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = "novalite.compute.instances"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("novalite.yml", "novalite.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        facts = self._cached_facts()
        for entry in instance_hosts(facts, self.get_option("vm_states"), self.get_option("use_floating_ip")):
            self._add_instance(entry)

    def _cached_facts(self):
        """{compute host: facts} from the fact cache."""
        store = cache_loader.get(self.get_option("fact_cache_plugin"), _uri=self.get_option("fact_cache_connection"),
                                 _timeout=0, _prefix="")  # as the fact cache writes it (fact_caching_prefix)
        if store is None:
            raise AnsibleParserError("cache plugin %s is not available" % self.get_option("fact_cache_plugin"))
        wanted = self.get_option("compute_hosts")
        return {host: store.get(host) for host in store.keys() if not wanted or host in wanted}

    def _add_instance(self, entry):
        name = entry["inventory_name"]
        self.inventory.add_host(name)
        for group in ["novalite_instances"] + entry["groups"]:
            self.inventory.add_group(group)
            self.inventory.add_child(group, name)
        for key, value in entry["variables"].items():
            self.inventory.set_variable(name, key, value)
        strict = self.get_option("strict")
        self._set_composite_vars(self.get_option("compose"), entry["variables"], name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), entry["variables"], name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), entry["variables"], name, strict=strict)
