# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security groups as nwfilters: ``nova-secgroup-<name>``, one accept rule per group rule.

A rule is data: ``{direction: in|out, protocol: tcp|udp|icmp|all, port | port_range_min +
port_range_max, cidr, icmp_type, icmp_code}``, as Nova's security_group_rules rows. Inbound
rules match the remote cidr as source and the guest's port as destination (Nova's
``-j ACCEPT -p tcp --dport 80 -s 0.0.0.0/0``). Egress is open (see nwfilter_static), so ``out``
rules only add what is already accepted; they exist for rule sets written with them.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.virt.addresses import ipv4_network
from ansible_collections.novalite.compute.plugins.module_utils.virt.checks import (
    mapping, reject_duplicates, reject_unknown, sequence, whole_number)
from ansible_collections.novalite.compute.plugins.module_utils.virt.names import safe_name, secgroup_filter_name
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter_config import (
    DEFAULT_RULE_PRIORITY, FilterConfig, RuleConfig)

GROUP_FIELDS = ("name", "rules")
RULE_FIELDS = ("direction", "protocol", "port", "port_range_min", "port_range_max", "cidr", "icmp_type", "icmp_code")
DIRECTIONS = ("in", "out")
PROTOCOLS = ("tcp", "udp", "icmp", "all")
PORT_RANGE = (1, 65535)
ICMP_RANGE = (0, 255)
DEFAULT_GROUP = "default"
# The seed's default group: ping, ssh and http from anywhere.
DEFAULT_GROUP_RULES = ({"protocol": "icmp"}, {"protocol": "tcp", "port": 22}, {"protocol": "tcp", "port": 80})


class SecurityGroup:
    def __init__(self, name, rules):
        self.name = name
        self.rules = rules

    @property
    def filter_name(self):
        return secgroup_filter_name(self.name)

    def filter_config(self):
        return FilterConfig(self.filter_name, "root", [rule_config(rule) for rule in self.rules])


def parse_groups(raw_groups):
    groups = [parse_group(raw, index) for index, raw in enumerate(sequence(raw_groups, "security_groups"))]
    reject_duplicates([group.name for group in groups], "security_groups: name")
    return groups


def parse_group(raw, index):
    fields = mapping(raw, "security_groups[%d]" % index)
    reject_unknown(fields, GROUP_FIELDS, "security_groups[%d]" % index)
    name = safe_name(fields.get("name"), "security_groups[%d] name" % index)
    rules = [parse_rule(rule, "security group %s rules[%d]" % (name, number))
             for number, rule in enumerate(sequence(fields.get("rules"), "security group %s rules" % name))]
    return SecurityGroup(name, rules)


def default_group():
    return SecurityGroup(DEFAULT_GROUP, [parse_rule(dict(rule), "default group") for rule in DEFAULT_GROUP_RULES])


def parse_rule(raw, what):
    fields = mapping(raw, what)
    reject_unknown(fields, RULE_FIELDS, what)
    rule = {"direction": _choice(fields.get("direction") or "in", DIRECTIONS, what + " direction"),
            "protocol": _choice(fields.get("protocol"), PROTOCOLS, what + " protocol"),
            "cidr": ipv4_network(fields.get("cidr") or "0.0.0.0/0", what + " cidr")}
    rule["ports"] = _ports(fields, rule["protocol"], what)
    rule["icmp"] = _icmp(fields, rule["protocol"], what)
    return rule


def _choice(value, choices, what):
    if value not in choices:
        raise InvalidInput("%s %r: expected one of %s" % (what, value, ", ".join(choices)))
    return value


def _ports(fields, protocol, what):
    """``(first, last)`` for tcp/udp (None: every port); refused for other protocols."""
    port, low, high = fields.get("port"), fields.get("port_range_min"), fields.get("port_range_max")
    if port is None and low is None and high is None:
        return None
    if protocol not in ("tcp", "udp"):
        raise InvalidInput("%s: ports apply to tcp and udp only, not %s" % (what, protocol))
    if port is not None:
        if low is not None or high is not None:
            raise InvalidInput("%s: give port or port_range_min/port_range_max, not both" % what)
        port = whole_number(port, PORT_RANGE, what + " port")
        return (port, port)
    low = whole_number(low, PORT_RANGE, what + " port_range_min")
    high = whole_number(high, PORT_RANGE, what + " port_range_max")
    if low > high:
        raise InvalidInput("%s: port_range_min %d is above port_range_max %d" % (what, low, high))
    return (low, high)


def _icmp(fields, protocol, what):
    icmp_type, icmp_code = fields.get("icmp_type"), fields.get("icmp_code")
    if icmp_type is None and icmp_code is None:
        return None
    if protocol != "icmp":
        raise InvalidInput("%s: icmp_type and icmp_code apply to icmp only, not %s" % (what, protocol))
    if icmp_type is None:
        raise InvalidInput("%s: icmp_code needs an icmp_type" % what)
    icmp_type = whole_number(icmp_type, ICMP_RANGE, what + " icmp_type")
    return (icmp_type, None if icmp_code is None else whole_number(icmp_code, ICMP_RANGE, what + " icmp_code"))


def rule_config(rule):
    """One accept rule; the remote side is the source inbound and the destination outbound."""
    remote = "src" if rule["direction"] == "in" else "dst"
    attributes = {}
    if rule["cidr"].prefixlen:
        attributes[remote + "ipaddr"] = str(rule["cidr"].network)
        attributes[remote + "ipmask"] = rule["cidr"].prefixlen
    if rule["ports"]:
        first, last = rule["ports"]
        attributes["dstportstart"] = first
        attributes["dstportend"] = last if last != first else None
    if rule["icmp"]:
        attributes["type"], attributes["code"] = rule["icmp"]
    return RuleConfig("accept", rule["direction"], DEFAULT_RULE_PRIORITY, rule["protocol"], **attributes)
