# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova_network's options, validated in full before anything on the host is looked at."""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network import names
from ansible_collections.novalite.compute.plugins.module_utils.network.addresses import parse_ipv4
from ansible_collections.novalite.compute.plugins.module_utils.network.instance_requests import parse_instance
from ansible_collections.novalite.compute.plugins.module_utils.network.network_record import NetworkRecord


class HostNetworkRequest:
    def __init__(self, params, default_host):
        self.network = NetworkRecord.from_params(params["network"])
        self.host = params.get("host") or default_host
        self.state = params["state"]
        self.instances = self._instances(params.get("instances"))
        self.dhcp_server = self._dhcp_server(params.get("dhcp_server"))
        self.remove_bridge = bool(params.get("remove_bridge"))
        if self.remove_bridge and (self.state != "absent" or self.instances is not None):
            raise InvalidInput("remove_bridge applies only to state=absent without instances "
                               "(taking the network down on this host)")
        self.networks_path = _absolute(params["networks_path"], "networks_path")
        self.facts_path = _absolute(params["facts_path"], "facts_path")
        self.locks_path = _absolute(params["locks_path"], "locks_path")
        self.dnsmasq_config_file = params.get("dnsmasq_config_file") or ""
        names.printable(self.dnsmasq_config_file, "dnsmasq_config_file")
        self.dhcp_lease_time = params["dhcp_lease_time"]
        if self.dhcp_lease_time < 120:
            raise InvalidInput("dhcp_lease_time %s is too short: dnsmasq needs at least 120 seconds"
                               % self.dhcp_lease_time, value=self.dhcp_lease_time)

    @property
    def releasing(self):
        return self.state == "absent" and self.instances is not None

    def _instances(self, entries):
        """AllocationRequests; for state=absent only the instance uuids matter (None: no list given)."""
        if entries is None:
            return None
        if self.state == "absent":
            return [names.uuid_string(e.get("instance_uuid"), "instances[%d].instance_uuid" % i)
                    for i, e in enumerate(entries)]
        return [parse_instance(entry, self.host, "instances[%d]" % i) for i, entry in enumerate(entries)]

    def _dhcp_server(self, value):
        if not value:
            return None
        address = str(parse_ipv4(value, "dhcp_server"))
        network = self.network
        if not network.multi_host and address != network.gateway:
            raise InvalidInput("dhcp_server %s: %s is not multi_host, so its DHCP server is the gateway %s"
                               % (address, network.describe(), network.gateway), value=address)
        return address


def _absolute(path, what):
    if not os.path.isabs(path):
        raise InvalidInput("%s %r must be an absolute path" % (what, path), value=path)
    return path
