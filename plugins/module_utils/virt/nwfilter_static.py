# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters every host needs (``base_filters``): Nova's static ones plus the firewall's frame.

- ``nova-base`` / ``nova-nodhcp``: NWFilterFirewall._ensure_static_filters, verbatim (anti-spoofing
  of MAC, IP and ARP by libvirt's own filters, plus libvirt's allow-dhcp-server for nova-base).
- ``nova-allow-dhcp-server``: Nova defined it too. Its ``udp`` rules are iptables rules, which
  the ebtables-level allow-dhcp-server is not: referenced by a DHCP instance's filter it plays
  IptablesFirewallDriver's rule 4 (``-s <dhcp_server> -p udp --sport 67 --dport 68 -j ACCEPT``).
  Its chain is ``root``, not Nova's ``ipv4``: libvirt 9.0 places the iptables rules of filters
  in other chains after all of root's, so an ``ipv4`` filter's accepts would land behind the
  final drop (seen on a real host).
- ``nova-project-network``: rule 5 (``-s <cidr> -j ACCEPT``, Nova's allow_same_net_traffic).
- ``nova-firewall-base``: rules 1, 2 and 7 (drop INVALID, accept ESTABLISHED/RELATED, drop the
  rest inbound) and, because libvirt puts a ``direction='in'`` drop into the guest's outbound
  chains as well, an explicit stateful accept of everything the guest sends (Nova had no egress
  filtering). They are not in the ``default`` group: an instance without that group must still
  get them, as in Nova, where they belong to the instance chain, not to a group.

libvirt merges the iptables rules of every filter an interface references and orders them by
priority, so the priorities place the frame around the groups' rules (priority 500):
100 INVALID, 110 ESTABLISHED, 120 DHCP, 130 project network, 500 groups, 900 egress, 1000 drop.
The INVALID and ESTABLISHED rules carry their ``state`` explicitly and leave statematch on:
with ``statematch='false'`` libvirt drops the ``state`` too and the rule matches everything.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.virt.filterref import FilterRefConfig
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter_config import FilterConfig, RuleConfig

NOVA_BASE = "nova-base"
NOVA_NODHCP = "nova-nodhcp"
ALLOW_DHCP_SERVER = "nova-allow-dhcp-server"
PROJECT_NETWORK = "nova-project-network"
FIREWALL_BASE = "nova-firewall-base"
ANTI_SPOOFING = ("no-mac-spoofing", "no-ip-spoofing", "no-arp-spoofing")

PRIORITY_INVALID, PRIORITY_ESTABLISHED, PRIORITY_DHCP, PRIORITY_PROJECT = 100, 110, 120, 130
PRIORITY_EGRESS, PRIORITY_FALLBACK = 900, 1000


def base_filters():
    """In definition order (a filter after the ones it references)."""
    return [
        FilterConfig(NOVA_NODHCP, "root", [FilterRefConfig(name) for name in ANTI_SPOOFING]),
        FilterConfig(NOVA_BASE, "root", [FilterRefConfig(name) for name in ANTI_SPOOFING + ("allow-dhcp-server",)]),
        FilterConfig(ALLOW_DHCP_SERVER, "root", [
            RuleConfig("accept", "out", PRIORITY_DHCP, "udp", srcipaddr="0.0.0.0", dstipaddr="255.255.255.255",
                       srcportstart=68, dstportstart=67),
            RuleConfig("accept", "in", PRIORITY_DHCP, "udp", srcipaddr="$DHCPSERVER", srcportstart=67,
                       dstportstart=68),
        ]),
        FilterConfig(PROJECT_NETWORK, "root", [
            RuleConfig("accept", "in", PRIORITY_PROJECT, "all", srcipaddr="$PROJNET", srcipmask="$PROJMASK"),
        ]),
        FilterConfig(FIREWALL_BASE, "root", [
            RuleConfig("drop", "in", PRIORITY_INVALID, "all", state="INVALID"),
            RuleConfig("accept", "in", PRIORITY_ESTABLISHED, "all", state="ESTABLISHED,RELATED"),
            RuleConfig("accept", "out", PRIORITY_EGRESS, "all"),
            RuleConfig("drop", "in", PRIORITY_FALLBACK, "all"),
        ]),
    ]


BASE_FILTER_NAMES = tuple(config.name for config in base_filters())
