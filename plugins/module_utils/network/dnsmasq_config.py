# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dnsmasq's command line and DHCP hosts file, as nova-network's linux_net wrote them.

Flags in the seed's order with Grizzly's netmask in --dhcp-range; files
``<networks_path>/nova-<bridge>.conf`` (the dhcp-hostsfile) and ``nova-<bridge>.pid``.
No --dhcp-script: lease events (nova-dhcpbridge) are not reproduced.
"""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.network.addresses import address_key

DEFAULT_LEASE_SECONDS = 120


class DnsmasqFiles:
    def __init__(self, networks_path, bridge):
        self.directory = networks_path
        self.hosts = os.path.join(networks_path, "nova-%s.conf" % bridge)
        self.pid = os.path.join(networks_path, "nova-%s.pid" % bridge)


def dnsmasq_arguments(network, dhcp_server, files, config_file="", lease_seconds=DEFAULT_LEASE_SECONDS):
    """The arguments after ``dnsmasq`` (Nova's restart_dhcp, without the env prefix for the script)."""
    return [
        "--strict-order",
        "--bind-interfaces",
        "--conf-file=%s" % config_file,
        "--domain=%s" % network.dhcp_domain,
        "--pid-file=%s" % files.pid,
        "--listen-address=%s" % dhcp_server,
        "--except-interface=lo",
        "--dhcp-range=set:%s,%s,static,%s,%ds" % (network.label, network.dhcp_start, network.netmask, lease_seconds),
        "--dhcp-lease-max=%d" % network.network.size,
        "--dhcp-hostsfile=%s" % files.hosts,
        "--leasefile-ro",
    ]


def hosts_file_text(network, fixed_ips):
    """One ``mac,hostname.domain,ip`` line per fixed ip (Nova's _host_dhcp), lowest address first.

    Every field was validated on the way in (a MAC, a DNS label, an address), so none can carry
    a comma or a newline into the file.
    """
    ordered = sorted(fixed_ips, key=lambda record: address_key(record["address"]))
    return "".join("%s,%s.%s,%s\n" % (r["mac"], r["hostname"], network.dhcp_domain, r["address"]) for r in ordered)
