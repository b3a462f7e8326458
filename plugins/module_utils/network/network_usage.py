# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is taken in one network: Nova's fixed_ips rows, rebuilt from facts (and the ledger).

A compute host's facts document holds ``networks[uuid]`` (with that host's ``dhcp_server``) and
``fixed_ips[address]`` (one per instance). A host's DHCP-server address is taken everywhere:
in multi_host mode it is an ordinary pool address that the host claimed for itself.
"""

from __future__ import annotations


class NetworkUsage:
    def __init__(self, network):
        self.network = network
        self.fixed_ips = {}  # address -> fixed ip record
        self.by_instance = {}  # instance uuid -> fixed ip record
        self.dhcp_servers = {}  # host -> address
        self.released_vif_ids = set()

    def add_facts(self, host, document):
        """One host's facts document; the network record there must agree with ours."""
        recorded = document.get("networks", {}).get(self.network.uuid)
        if recorded:
            self.network.check_same_layout(recorded, "host %s" % host)
            if recorded.get("dhcp_server"):
                self.add_dhcp_server(recorded.get("host") or host, recorded["dhcp_server"])
            self.released_vif_ids.update(recorded.get("released_vif_ids", ()))
        for record in document.get("fixed_ips", {}).values():
            if record.get("network_id") == self.network.uuid:
                self.add_fixed_ip(record)
        return self

    def add_fixed_ip(self, record):
        # The first holder wins: a later duplicate is a broken state, and both stay taken.
        self.fixed_ips.setdefault(record["address"], record)
        self.by_instance.setdefault(record["instance_uuid"], record)

    def add_dhcp_server(self, host, address):
        self.dhcp_servers.setdefault(host, address)

    def taken_addresses(self):
        """Every address held by an instance or a host (strings)."""
        return list(self.fixed_ips) + list(self.dhcp_servers.values())

    def taken_macs(self):
        return {record["mac"]: record["instance_uuid"] for record in self.fixed_ips.values()}

    def holder_of(self, address):
        """Who holds ``address``, in words, or None."""
        record = self.fixed_ips.get(address)
        if record:
            return "instance %s (host %s)" % (record["instance_uuid"], record.get("host"))
        for host, dhcp_server in self.dhcp_servers.items():
            if dhcp_server == address:
                return "the DHCP server of host %s" % host
        return None
