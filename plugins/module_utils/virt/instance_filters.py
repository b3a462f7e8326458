# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``nova-instance-<name>-<mac without colons>``: one filter per interface, as Nova's.

It only references other filters: the anti-spoofing base (nova-base with DHCP, nova-nodhcp
without), the firewall frame, the DHCP and project-network accepts, and the instance's
security groups. The values (IP, DHCPSERVER, PROJNET, PROJMASK) come from the domain
interface's filterref (seed style), which passes them down to every filter referenced here.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.virt.addresses import unicast_mac
from ansible_collections.novalite.compute.plugins.module_utils.virt.checks import (
    mapping, reject_duplicates, reject_unknown, sequence)
from ansible_collections.novalite.compute.plugins.module_utils.virt.filterref import FilterRefConfig
from ansible_collections.novalite.compute.plugins.module_utils.virt.names import (
    instance_filter_name, safe_name, secgroup_filter_name)
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter_config import FilterConfig
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter_static import (
    ALLOW_DHCP_SERVER, FIREWALL_BASE, NOVA_BASE, NOVA_NODHCP, PROJECT_NETWORK)
from ansible_collections.novalite.compute.plugins.module_utils.virt.security_groups import DEFAULT_GROUP

FIELDS = ("instance_name", "mac", "security_groups", "dhcp", "allow_same_net_traffic")


class InstanceFilterSpec:
    def __init__(self, instance_name, mac, groups, dhcp=True, same_net=True):
        self.instance_name = instance_name
        self.mac = mac
        self.groups = groups
        self.dhcp = dhcp
        self.same_net = same_net

    @property
    def filter_name(self):
        return instance_filter_name(self.instance_name, self.mac)

    def filter_config(self):
        names = [NOVA_BASE if self.dhcp else NOVA_NODHCP, FIREWALL_BASE]
        names += [ALLOW_DHCP_SERVER] if self.dhcp else []
        names += [PROJECT_NETWORK] if self.same_net else []
        names += [secgroup_filter_name(group) for group in self.groups]
        return FilterConfig(self.filter_name, "root", [FilterRefConfig(name) for name in names])


def parse_instance_filters(raw_filters):
    specs = [parse_instance_filter(raw, index) for index, raw in enumerate(sequence(raw_filters, "instance_filters"))]
    reject_duplicates([spec.filter_name for spec in specs], "instance_filters: filter")
    return specs


def parse_instance_filter(raw, index):
    what = "instance_filters[%d]" % index
    fields = mapping(raw, what)
    reject_unknown(fields, FIELDS, what)
    name = safe_name(fields.get("instance_name"), what + " instance_name")
    mac = unicast_mac(fields.get("mac"), what + " mac")
    groups = fields.get("security_groups")
    groups = [DEFAULT_GROUP] if groups is None else sequence(groups, what + " security_groups")
    groups = [safe_name(group, what + " security group") for group in groups]
    reject_duplicates(groups, what + " security group")
    return InstanceFilterSpec(name, mac, groups, dhcp=_flag(fields, "dhcp", what),
                              same_net=_flag(fields, "allow_same_net_traffic", what))


def _flag(fields, name, what):
    value = fields.get(name)
    if value is None:
        return True
    if not isinstance(value, bool):
        raise InvalidInput("%s %s %r: expected true or false" % (what, name, value))
    return value
