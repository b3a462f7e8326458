# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nwfilters of a compute host: Nova's ``nova/virt/libvirt/firewall.py`` ``NWFilterFirewall``
(``setup_basic_filtering``, ``prepare_instance_filter``, ``unfilter_instance``), with security
groups as filters (firewall driver ``nwfilter``) or, as Nova's libvirt ``IptablesFirewallDriver``
did, as iptables chains beside filters that keep only the anti-spoofing (driver ``iptables``,
virt/iptables_firewall.py).

- the filter names both modules build (a domain's filterref names its interface's filter);
- the static filters every host needs (``nova-base`` and the firewall's frame);
- security groups and their rules, parsed by plain functions (no libvirt, no Ansible) that the
  controller's request step calls too, so a group it accepted is never refused on a host;
- one filter per interface, ``nova-instance-<name>-<mac without colons>``;
- the nwfilter module's service: plan every filter (and with ``iptables`` every chain), then
  define or undefine through the rollback contract (``common/rollback.py``).
"""

from __future__ import annotations

import os
import time

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import undo_on_failure
from ansible_collections.novalite.compute.plugins.module_utils.network.iptables import IPTABLES_LOCK, IptablesStep
from ansible_collections.novalite.compute.plugins.module_utils.virt import iptables_firewall
from ansible_collections.novalite.compute.plugins.module_utils.virt.config import (
    DEFAULT_RULE_PRIORITY, FilterConfig, FilterRefConfig, RuleConfig)
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    LibvirtFailed, call, find_nwfilter, libvirt, libvirt_connection, require_libraries)

# --- filter names -----------------------------------------------------------------------------

INSTANCE_FILTER_PREFIX = "nova-instance-"
SECGROUP_FILTER_PREFIX = "nova-secgroup-"


def instance_filter_name(instance_name, mac):
    """Nova's per-interface filter: ``nova-instance-<instance name>-<mac without colons>``."""
    return "%s%s-%s" % (INSTANCE_FILTER_PREFIX, instance_name, mac.replace(":", ""))


def secgroup_filter_name(group_name):
    return SECGROUP_FILTER_PREFIX + group_name


# --- the static filters -----------------------------------------------------------------------
# - nova-base / nova-nodhcp: NWFilterFirewall._ensure_static_filters, verbatim (anti-spoofing of
#   MAC, IP and ARP by libvirt's own filters, plus libvirt's allow-dhcp-server for nova-base).
# - nova-allow-dhcp-server: Nova defined it too. Its udp rules are iptables rules, which the
#   ebtables-level allow-dhcp-server is not: referenced by a DHCP instance's filter it plays
#   IptablesFirewallDriver's "-s <dhcp_server> -p udp --sport 67 --dport 68 -j ACCEPT". Its chain
#   is root, not Nova's ipv4: libvirt 9.0 places the iptables rules of filters in other chains
#   after all of root's, so an ipv4 filter's accepts would land behind the final drop.
# - nova-project-network: "-s <cidr> -j ACCEPT", Nova's allow_same_net_traffic.
# - nova-firewall-base: drop INVALID, accept ESTABLISHED/RELATED, drop the rest inbound and,
#   because libvirt puts a direction='in' drop into the guest's outbound chains as well, an
#   explicit stateful accept of everything the guest sends (Nova had no egress filtering). They
#   are not in the default group: an instance without that group must still get them, as in
#   Nova, where they belong to the instance chain, not to a group.
# libvirt merges the iptables rules of every filter an interface references and orders them by
# priority, so the priorities place the frame around the groups' rules (priority 500). The
# INVALID and ESTABLISHED rules carry their state explicitly and leave statematch on: with
# statematch='false' libvirt drops the state too and the rule matches everything.

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


# --- security groups --------------------------------------------------------------------------
# A rule is data, as Nova's security_group_rules rows: {direction: in|out, protocol:
# tcp|udp|icmp|all, port | port_range_min + port_range_max, cidr, icmp_type, icmp_code}. Inbound
# rules match the remote cidr as source and the guest's port as destination (Nova's
# "-j ACCEPT -p tcp --dport 80 -s 0.0.0.0/0"). Egress is open (nova-firewall-base), so out rules
# only add what is already accepted; they exist for rule sets written with them.

GROUP_FIELDS = ("name", "rules")
RULE_FIELDS = ("direction", "protocol", "port", "port_range_min", "port_range_max", "cidr", "icmp_type", "icmp_code")
DIRECTIONS = ("in", "out")
PROTOCOLS = ("tcp", "udp", "icmp", "all")
PORT_PROTOCOLS = ("tcp", "udp")
ICMP_RANGE = (0, 255)
DEFAULT_GROUP = "default"
# Nova's default group as novalite ships it: ping, ssh and http from anywhere.
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


def parse_groups(raw_groups, what="security_groups"):
    """Security group definitions as SecurityGroups; any bad group or rule is an InvalidInput."""
    groups = [parse_group(raw, "%s[%d]" % (what, index))
              for index, raw in enumerate(validate.sequence(raw_groups, what))]
    validate.reject_duplicates([group.name for group in groups], what + ": name")
    return groups


def parse_group(raw, what):
    fields = validate.mapping(raw, what)
    validate.reject_unknown(fields, GROUP_FIELDS, what)
    name = validate.resource_name(fields.get("name"), what + " name")
    rules = validate.sequence(fields.get("rules"), "security group %s rules" % name)
    return SecurityGroup(name, [parse_rule(rule, "security group %s rules[%d]" % (name, index))
                                for index, rule in enumerate(rules)])


def default_group():
    return SecurityGroup(DEFAULT_GROUP, [parse_rule(dict(rule), "default group") for rule in DEFAULT_GROUP_RULES])


def require_known_groups(names, groups, what, defined=(), defined_as=None):
    """Every group name in ``names`` is one of ``groups``, ``default`` (made on first use) or ``defined``.

    ``defined`` are the groups already on a host; ``defined_as(name)`` says as what (an nwfilter).
    """
    known = {group.name for group in groups} | {DEFAULT_GROUP} | set(defined)
    defined_as = defined_as or (lambda group: "nwfilter " + secgroup_filter_name(group))
    for name in names:
        if name not in known:
            raise InvalidInput("security group %s (used by %s) is neither in security_groups nor defined as %s"
                               % (name, what, defined_as(name)), value=name)


def parse_rule(raw, what):
    fields = validate.mapping(raw, what)
    validate.reject_unknown(fields, RULE_FIELDS, what)
    rule = {"direction": validate.choice(fields.get("direction") or "in", DIRECTIONS, what + " direction"),
            "protocol": validate.choice(fields.get("protocol"), PROTOCOLS, what + " protocol"),
            "cidr": validate.ipv4_network(fields.get("cidr") or "0.0.0.0/0", what + " cidr")}
    rule["ports"] = _ports(fields, rule["protocol"], what)
    rule["icmp"] = _icmp(fields, rule["protocol"], what)
    return rule


def _ports(fields, protocol, what):
    """``(first, last)`` for tcp/udp (None: every port); refused for other protocols."""
    port, low, high = fields.get("port"), fields.get("port_range_min"), fields.get("port_range_max")
    if port is None and low is None and high is None:
        return None
    if protocol not in PORT_PROTOCOLS:
        raise InvalidInput("%s: ports apply to tcp and udp only, not %s" % (what, protocol), value=protocol)
    if port is not None:
        if low is not None or high is not None:
            raise InvalidInput("%s: give port (%r) or port_range_min/port_range_max (%r/%r), not both"
                               % (what, port, low, high), value=port)
        port = validate.port(port, what + " port")
        return (port, port)
    low = validate.port(low, what + " port_range_min")
    high = validate.port(high, what + " port_range_max")
    if low > high:
        raise InvalidInput("%s: port_range_min %d is above port_range_max %d" % (what, low, high), value=low)
    return (low, high)


def _icmp(fields, protocol, what):
    icmp_type, icmp_code = fields.get("icmp_type"), fields.get("icmp_code")
    if icmp_type is None and icmp_code is None:
        return None
    if protocol != "icmp":
        raise InvalidInput("%s: icmp_type and icmp_code apply to icmp only, not %s" % (what, protocol), value=protocol)
    if icmp_type is None:
        raise InvalidInput("%s: icmp_code needs an icmp_type (icmp_code is %r)" % (what, icmp_code), value=icmp_code)
    icmp_type = validate.whole_number(icmp_type, what + " icmp_type", *ICMP_RANGE)
    if icmp_code is not None:
        icmp_code = validate.whole_number(icmp_code, what + " icmp_code", *ICMP_RANGE)
    return (icmp_type, icmp_code)


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


# --- per-interface filters --------------------------------------------------------------------
# nova-instance-<name>-<mac> only references other filters: the anti-spoofing base (nova-base with
# DHCP, nova-nodhcp without), the firewall frame, the DHCP and project-network accepts, and the
# instance's security groups. The values (IP, DHCPSERVER, PROJNET, PROJMASK) come from the domain
# interface's filterref, which passes them down to every filter referenced here.

INSTANCE_FILTER_FIELDS = ("instance_name", "mac", "security_groups", "dhcp", "allow_same_net_traffic",
                          "address", "dhcp_server", "project_cidr")
NWFILTER_DRIVER, IPTABLES_DRIVER = "nwfilter", "iptables"
FIREWALL_DRIVERS = (NWFILTER_DRIVER, IPTABLES_DRIVER)


class InstanceFilterSpec:
    """One interface; ``address``, ``dhcp_server`` and ``project_cidr`` are the iptables driver's."""

    def __init__(self, instance_name, mac, groups, dhcp=True, same_net=True, address=None, dhcp_server=None,
                 project_cidr=None):
        self.instance_name = instance_name
        self.mac = mac
        self.groups = groups
        self.dhcp = dhcp
        self.same_net = same_net
        self.address = address
        self.dhcp_server = dhcp_server
        self.project_cidr = project_cidr

    @property
    def filter_name(self):
        return instance_filter_name(self.instance_name, self.mac)

    def filter_config(self, driver=NWFILTER_DRIVER):
        """Every filter of the firewall, or with the iptables driver only the anti-spoofing."""
        base = NOVA_BASE if self.dhcp else NOVA_NODHCP
        if driver == IPTABLES_DRIVER:
            return FilterConfig(self.filter_name, "root", [FilterRefConfig(base)])
        names = [base, FIREWALL_BASE]
        names += [ALLOW_DHCP_SERVER] if self.dhcp else []
        names += [PROJECT_NETWORK] if self.same_net else []
        names += [secgroup_filter_name(group) for group in self.groups]
        return FilterConfig(self.filter_name, "root", [FilterRefConfig(name) for name in names])


def parse_instance_filters(raw_filters):
    specs = [parse_instance_filter(raw, index)
             for index, raw in enumerate(validate.sequence(raw_filters, "instance_filters"))]
    validate.reject_duplicates([spec.filter_name for spec in specs], "instance_filters: filter")
    return specs


def parse_instance_filter(raw, index):
    what = "instance_filters[%d]" % index
    fields = validate.mapping(raw, what)
    validate.reject_unknown(fields, INSTANCE_FILTER_FIELDS, what)
    name = validate.instance_name(fields.get("instance_name"), what + " instance_name")
    mac = validate.mac_address(fields.get("mac"), what + " mac")
    groups = fields.get("security_groups")
    groups = [DEFAULT_GROUP] if groups is None else validate.sequence(groups, what + " security_groups")
    groups = [validate.resource_name(group, what + " security group") for group in groups]
    validate.reject_duplicates(groups, what + " security group")
    address = validate.optional_ipv4_address(fields.get("address"), what + " address")
    dhcp_server = validate.optional_ipv4_address(fields.get("dhcp_server"), what + " dhcp_server")
    project_cidr = fields.get("project_cidr")
    project_cidr = str(validate.ipv4_network(project_cidr, what + " project_cidr")) if project_cidr else None
    return InstanceFilterSpec(name, mac, groups, dhcp=_flag(fields, "dhcp", what),
                              same_net=_flag(fields, "allow_same_net_traffic", what), address=address,
                              dhcp_server=dhcp_server, project_cidr=project_cidr)


def _flag(fields, name, what):
    """Unset (None, as Ansible fills suboptions) means true."""
    value = fields.get(name)
    return True if value is None else validate.flag(value, "%s %s" % (what, name))


# --- the nwfilter service ---------------------------------------------------------------------
# Filters are defined in dependency order (base, groups, instances) and removed in the reverse.
# A filter that exists is compared by meaning and redefined under its own uuid (libvirt refuses
# a new uuid for a known name); libvirt re-applies a redefined filter to running guests itself.

CREATED, UPDATED, UNCHANGED, REMOVED, ABSENT = "created", "updated", "unchanged", "removed", "absent"
RETRY_SECONDS = 0.5


def ensure_nwfilters(module):
    """``run_module`` entry point of nwfilter."""
    return NwfilterService(module.params, module.run_command).ensure(module.check_mode, module._diff)


class FilterChange:
    """One filter: what libvirt has, what is wanted, and the action between them."""

    def __init__(self, name, existing, wanted=None):
        self.name = name
        self.existing = existing  # virNWFilter or None
        self.current_xml = call("reading nwfilter %s" % name, existing.XMLDesc, 0) if existing else None
        self.current = FilterConfig.parse_str(self.current_xml) if existing else None
        self.wanted = wanted
        if wanted is None:
            self.action = REMOVED if existing else ABSENT
        elif existing is None:
            self.action = CREATED
        else:
            self.action = UNCHANGED if self.current.to_xml() == wanted.to_xml() else UPDATED

    @property
    def changed(self):
        return self.action in (CREATED, UPDATED, REMOVED)

    @property
    def uuid_after(self):
        return None if self.action in (REMOVED, ABSENT) or self.existing is None else self.existing.UUIDString()

    def diff(self):
        return {"before_header": "nwfilter %s (libvirt)" % self.name,
                "after_header": "nwfilter %s (wanted)" % self.name,
                "before": self.current.to_xml() if self.current else "",
                "after": self.wanted.to_xml() if self.wanted else ""}


class NwfilterService:
    def __init__(self, options, run_command=None, clock=time.monotonic, sleep=time.sleep):
        self.options = options
        self.run_command = run_command  # the iptables driver's iptables-save and iptables-restore
        self.clock = clock
        self.sleep = sleep
        self.driver = NWFILTER_DRIVER

    def ensure(self, check_mode, diff):
        require_libraries()
        options = self.options
        self.driver = validate.choice(options.get("firewall_driver") or NWFILTER_DRIVER, FIREWALL_DRIVERS,
                                      "firewall_driver")
        groups = parse_groups(options.get("security_groups"))
        instances = parse_instance_filters(options.get("instance_filters"))
        validate.whole_number(options["in_use_timeout"], "in_use_timeout")
        iptables = self.driver == IPTABLES_DRIVER
        existing = iptables_firewall.existing_chains(self.run_command) if iptables else None
        with libvirt_connection(options["uri"]) as conn:
            if options["state"] == "present":
                groups = groups + self._groups_made_on_first_use(conn, groups, instances, existing)
                wanted = self._wanted_filters(conn, groups, instances)
                changes = [FilterChange(config.name, find_nwfilter(conn, config.name), config) for config in wanted]
                chains = iptables_firewall.present_chains(groups, instances) if iptables else None
            else:
                names = self._names_to_remove(groups, instances)
                changes = [FilterChange(name, find_nwfilter(conn, name)) for name in names]
                chains = iptables_firewall.absent_chains(groups, instances, existing) if iptables else None
            firewall = self._firewall_step(chains, existing) if iptables else None
            if not check_mode:
                self._apply(conn, changes, firewall)
        result = {"changed": any(change.changed for change in changes) or bool(firewall and firewall.changed),
                  "firewall_driver": self.driver,
                  "filters": [{"name": change.name, "action": change.action, "uuid": change.uuid_after}
                              for change in changes]}
        if firewall:
            result["chains"] = [dict(state, name=name)
                                for name, state in sorted(firewall.after.get(iptables_firewall.TABLE, {}).items())]
        if diff:
            result["diff"] = [change.diff() for change in changes if change.changed]
            result["diff"] += [_chains_diff(firewall)] if firewall and firewall.changed else []
        return result

    def _firewall_step(self, chains, existing):
        locks_path = validate.absolute_path(self.options["locks_path"], "locks_path")
        return IptablesStep(self.run_command, chains, os.path.join(locks_path, IPTABLES_LOCK),
                            probed={iptables_firewall.TABLE: existing})

    def _groups_made_on_first_use(self, conn, groups, instances, existing):
        """Every referenced group must be given or on the host; ``default`` is made when it is neither."""
        referenced = sorted({name for spec in instances for name in spec.groups} - {group.name for group in groups})
        if self.driver == IPTABLES_DRIVER:
            on_host = iptables_firewall.groups_on_host(existing, referenced)
            require_known_groups(referenced, groups, "instance_filters", defined=on_host,
                                 defined_as=lambda name: "iptables chain " + iptables_firewall.group_chain_name(name))
        else:
            on_host = [name for name in referenced if find_nwfilter(conn, secgroup_filter_name(name)) is not None]
            require_known_groups(referenced, groups, "instance_filters", defined=on_host)
        return [default_group()] if DEFAULT_GROUP in referenced and DEFAULT_GROUP not in on_host else []

    def _wanted_filters(self, conn, groups, instances):
        """Base, groups (nwfilter driver), instance filters; the base filters must exist or be given."""
        wanted = base_filters() if self.options["base_filters"] else []
        if self.driver == NWFILTER_DRIVER:
            wanted += [group.filter_config() for group in groups]
        if instances and not self.options["base_filters"]:
            missing = [name for name in BASE_FILTER_NAMES if find_nwfilter(conn, name) is None]
            if missing:
                raise InvalidInput("instance_filters reference %s, which are not defined; set base_filters: true"
                                   % ", ".join(missing))
        return wanted + [spec.filter_config(self.driver) for spec in instances]

    def _names_to_remove(self, groups, instances):
        names = [spec.filter_name for spec in instances] + [group.filter_name for group in groups]
        return names + (list(reversed(BASE_FILTER_NAMES)) if self.options["base_filters"] else [])

    def _apply(self, conn, changes, firewall):
        """Every change as a step, the chains last; any failure undoes the ones before it (common/rollback.py)."""
        with undo_on_failure() as rollback:
            for change in changes:
                if change.action in (CREATED, UPDATED):
                    with rollback.step("defining nwfilter %s" % change.name):
                        self._define(conn, change, rollback)
                elif change.action == REMOVED:
                    with rollback.step("undefining nwfilter %s" % change.name):
                        self._undefine(conn, change, rollback)
            if firewall and firewall.changed:
                with rollback.step("writing the security group chains"):
                    firewall.apply()
                    rollback.record("restore the security group chains", firewall.undo)

    def _define(self, conn, change, rollback):
        uuid = change.existing.UUIDString() if change.existing else None
        change.existing = call("defining nwfilter %s" % change.name, conn.nwfilterDefineXML,
                               change.wanted.with_uuid(uuid).to_xml())
        if change.current_xml is None:
            created = change.existing
            rollback.record("undefine nwfilter %s" % change.name,
                            lambda: call("undefining nwfilter %s" % change.name, created.undefine))
        else:
            rollback.record("restore nwfilter %s" % change.name,
                            lambda: _redefine(conn, change.name, change.current_xml))

    def _undefine(self, conn, change, rollback):
        """Undefine, retrying while libvirt says the filter is in use (a guest still being torn down)."""
        deadline = self.clock() + self.options["in_use_timeout"]
        while True:
            try:
                call("undefining nwfilter %s" % change.name, change.existing.undefine)
                break
            except LibvirtFailed as exc:
                if not _in_use(exc):
                    raise
                if self.clock() >= deadline:
                    raise LibvirtFailed("%s (still in use after %ss: remove the domains using it first)"
                                        % (exc.msg, self.options["in_use_timeout"]), **exc.details) from exc
            self.sleep(RETRY_SECONDS)
        rollback.record("restore nwfilter %s" % change.name,
                        lambda: _redefine(conn, change.name, change.current_xml))


def _redefine(conn, name, xml):
    call("restoring nwfilter %s" % name, conn.nwfilterDefineXML, xml)


def _in_use(exc):
    return exc.details.get("libvirt_error_code") == libvirt.VIR_ERR_OPERATION_INVALID or "in use" in exc.msg


def _chains_diff(firewall):
    return {"before_header": "iptables chains (host)", "after_header": "iptables chains (wanted)",
            "before": _chains_text(firewall.before), "after": _chains_text(firewall.after)}


def _chains_text(described):
    """iptables-save lines of the chains and their hooks."""
    lines = []
    for chain, state in sorted(described.get(iptables_firewall.TABLE, {}).items()):
        lines += ["-A %s %s" % (chain, rule) for rule in state["rules"]]
        lines += ["-A %s" % hook for hook in state["hooks"]]
    return "".join(line + "\n" for line in lines)
