# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova_network's options, and their checks: every one runs before anything on the host is looked at."""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text
from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_FACTS_PATH, DEFAULT_INSTANCES_PATH, DEFAULT_LOCKS_PATH, DEFAULT_NETWORKS_PATH)
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NETWORK, NetworkRecord
from ansible_collections.novalite.compute.plugins.module_utils.network.dnsmasq import (
    DEFAULT_LEASE_SECONDS, MIN_LEASE_SECONDS)
from ansible_collections.novalite.compute.plugins.module_utils.network.egress import EGRESS_SPEC, EgressOptions
from ansible_collections.novalite.compute.plugins.module_utils.network.floating import (
    AUTO_ASSIGNED_OPTIONS, FloatingChange)
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import AllocationRequest

INSTANCE_OPTIONS = {
    "instance_uuid": {"type": "str", "required": True},
    "instance_name": {"type": "str"},
    "hostname": {"type": "str"},
    "address": {"type": "str"},
    "mac": {"type": "str"},
    "vif_id": {"type": "str"},
}
NOVA_NETWORK_SPEC = dict({
    "network": NETWORK,
    "instances": {"type": "list", "elements": "dict", "options": INSTANCE_OPTIONS},
    "dhcp_server": {"type": "str"},
    "host": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent", "dns"], "default": "present"},
    "remove_bridge": {"type": "bool", "default": False},
    "networks_path": {"type": "path", "default": DEFAULT_NETWORKS_PATH},
    "facts_path": {"type": "path", "default": DEFAULT_FACTS_PATH},
    "locks_path": {"type": "path", "default": DEFAULT_LOCKS_PATH},
    "instances_path": {"type": "path", "default": DEFAULT_INSTANCES_PATH},
    "dnsmasq_config_file": {"type": "str", "default": ""},
    "dhcp_lease_time": {"type": "int", "default": DEFAULT_LEASE_SECONDS},
    "dns_names": {"type": "dict"},
    "floating_ips": {"type": "list", "elements": "dict", "options": AUTO_ASSIGNED_OPTIONS, "default": []},
}, **EGRESS_SPEC)


class HostNetworkRequest:
    """nova_network's options, validated in full before anything on the host is looked at."""

    def __init__(self, params, default_host):
        self.state = params["state"]
        self.host = validate.one_line(params.get("host") or default_host, "host")
        self.releasing = self.state == "absent" and params.get("instances") is not None
        self.network = None if self.releasing else self._network(params.get("network"))
        self.network_id = self._network_id(params.get("network")) if self.releasing else (
            self.network.uuid if self.network else None)
        self.instances = self._instances(params.get("instances"))
        self.dhcp_server = self._dhcp_server(params.get("dhcp_server")) if self.state == "present" else None
        self.remove_bridge = bool(params.get("remove_bridge"))
        if self.remove_bridge and (self.state != "absent" or self.instances is not None):
            raise InvalidInput("remove_bridge applies only to state=absent without instances "
                               "(taking the network down on this host)")
        for name in ("networks_path", "facts_path", "locks_path", "instances_path"):
            setattr(self, name, validate.absolute_path(params[name], name))
        self.dnsmasq_config_file = validate.one_line(params.get("dnsmasq_config_file") or "", "dnsmasq_config_file")
        self.dhcp_lease_time = validate.whole_number(params["dhcp_lease_time"], "dhcp_lease_time", MIN_LEASE_SECONDS)
        self.egress = EgressOptions(params) if self.state == "present" else None
        self.dns_names = self._dns_names(params.get("dns_names"))
        self.floating = self._floating(params.get("floating_ips") or [])

    def _network(self, params):
        if params is None:
            raise InvalidInput("network is required with state=present or dns and to take a network down "
                               "(state=absent without instances)")
        return NetworkRecord.from_params(params)

    @staticmethod
    def _network_id(params):
        """A release reads only the uuid of ``network`` (for its dns_names), never the rest."""
        return validate.uuid(params["uuid"], "network.uuid") if params and params.get("uuid") else None

    def _instances(self, entries):
        """AllocationRequests; for a release only the instance uuids (None: no list given)."""
        if entries is None:
            return None
        if self.releasing:
            return [validate.uuid(e.get("instance_uuid"), "instances[%d].instance_uuid" % i)
                    for i, e in enumerate(entries)]
        return [AllocationRequest.from_params(e, self.host, "instances[%d]" % i) for i, e in enumerate(entries)]

    def _dhcp_server(self, value):
        if not value:
            return None
        address = str(validate.ipv4_address(value, "dhcp_server"))
        network = self.network
        if not network.multi_host and address != network.gateway:
            raise InvalidInput("dhcp_server %s: %s is not multi_host, so its DHCP server is the gateway %s"
                               % (address, network.describe(), network.gateway), value=address)
        return address

    def _dns_names(self, names):
        """{address: hostname} of every instance of the network (None: keep what is recorded)."""
        if names is None:
            return None
        if self.network_id is None:
            raise InvalidInput("dns_names needs network (its uuid at least): the names are the network's")
        return {str(validate.ipv4_address(address, "dns_names key")): validate.dns_label(hostname, "dns_names[%s]" % address)
                for address, hostname in validate.mapping(names, "dns_names").items()}

    def _floating(self, entries):
        """The auto-assigned floating IPs to keep and associate here (present only)."""
        if entries and self.state != "present":
            raise InvalidInput("floating_ips are associated with state=present only (a release frees the "
                               "instances' own)")
        if not entries:
            return FloatingChange()
        change = FloatingChange(allocate=[dict(e, auto_assigned=True) for e in entries],
                                associate=[{"address": e.get("address"), "instance_uuid": e.get("instance_uuid")}
                                           for e in entries])
        wanted = {r.instance_uuid for r in self.instances or []}
        for index, row in enumerate(change.allocate):
            if row["instance_uuid"] not in wanted:
                raise InvalidInput("floating_ips[%d]: instance %s is not one of instances"
                                   % (index, row["instance_uuid"]), value=row["instance_uuid"])
        return change


class HostTools:
    """How the service reaches the host; unit tests hand in fakes.

    ``find_binary(name)`` must find it; ``find_optional(name)`` returns None when it is missing.
    """

    def __init__(self, run_command, find_binary, proc_root="/proc", send_signal=os.kill, read_file=read_text,
                 find_optional=None, python=None):
        self.run_command = run_command
        self.find_binary = find_binary
        self.find_optional = find_optional or (lambda name: None)
        self.proc_root = proc_root
        self.send_signal = send_signal
        self.read_file = read_file
        self.python = python
