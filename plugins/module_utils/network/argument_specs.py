# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs of nova_network; the network definition is shared with ipam_allocate (action plugin).

Types and required-ness only; values are validated (with messages naming them) by
NetworkRecord and the request parsers.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_FACTS_PATH, DEFAULT_LOCKS_PATH, DEFAULT_NETWORKS_PATH)
from ansible_collections.novalite.compute.plugins.module_utils.network.dnsmasq_config import DEFAULT_LEASE_SECONDS
from ansible_collections.novalite.compute.plugins.module_utils.network.network_record import DEFAULT_DHCP_DOMAIN

NETWORK_OPTIONS = {
    "uuid": {"type": "str", "required": True},
    "label": {"type": "str", "required": True},
    "cidr": {"type": "str", "required": True},
    "gateway": {"type": "str"},
    "dhcp_start": {"type": "str"},
    "netmask": {"type": "str"},
    "broadcast": {"type": "str"},
    "dns1": {"type": "str"},
    "dns2": {"type": "str"},
    "bridge": {"type": "str", "required": True},
    "bridge_interface": {"type": "str"},
    "multi_host": {"type": "bool", "default": False},
    "project_id": {"type": "str"},
    "vlan": {"type": "int"},
    "reserved": {"type": "list", "elements": "str", "default": []},
    "dhcp_domain": {"type": "str", "default": DEFAULT_DHCP_DOMAIN},
}

NETWORK = {"type": "dict", "required": True, "options": NETWORK_OPTIONS}

INSTANCE_OPTIONS = {
    "instance_uuid": {"type": "str", "required": True},
    "instance_name": {"type": "str"},
    "hostname": {"type": "str"},
    "address": {"type": "str"},
    "mac": {"type": "str"},
    "vif_id": {"type": "str"},
}

NOVA_NETWORK_SPEC = {
    "network": NETWORK,
    "instances": {"type": "list", "elements": "dict", "options": INSTANCE_OPTIONS},
    "dhcp_server": {"type": "str"},
    "host": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "remove_bridge": {"type": "bool", "default": False},
    "networks_path": {"type": "path", "default": DEFAULT_NETWORKS_PATH},
    "facts_path": {"type": "path", "default": DEFAULT_FACTS_PATH},
    "locks_path": {"type": "path", "default": DEFAULT_LOCKS_PATH},
    "dnsmasq_config_file": {"type": "str", "default": ""},
    "dhcp_lease_time": {"type": "int", "default": DEFAULT_LEASE_SECONDS},
}
