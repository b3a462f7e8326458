#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: nwfilter
short_description: Anti-spoofing nwfilters, and security groups as nwfilters or iptables chains, as Nova's firewall drivers
version_added: 0.1.0
description:
  - Defines and removes libvirt nwfilters on the compute host, idempotently, in one call for all of them, as
    C(NWFilterFirewall) in Nova's C(nova/virt/libvirt/firewall.py) did (C(setup_basic_filtering),
    C(prepare_instance_filter), C(unfilter_instance)).
  - A filter that already has the name is compared with the wanted one by meaning (rules, references, priorities;
    not text) and redefined under its existing uuid, because libvirt refuses a redefinition with a new uuid.
    libvirt applies a redefined filter to the running guests that use it.
  - Filters are defined in dependency order (base filters, security groups, instance filters) and removed in the
    reverse order. If any step fails, the filters this call created are undefined and the ones it changed or
    removed are restored; the failure names its step in RV(failed_step) and lists what was undone in
    RV(rolled_back) and what could not be undone in RV(rollback_failures).
  - "With O(base_filters=true) the host gets Nova's static filters: C(nova-base) (libvirt's no-mac-spoofing,
    no-ip-spoofing, no-arp-spoofing and allow-dhcp-server) and C(nova-nodhcp) (the same without DHCP), plus three
    iptables-level filters that build the per-instance firewall of Nova's C(IptablesFirewallDriver) around the
    security groups: C(nova-allow-dhcp-server) (Nova's own filter of that name: accept DHCP replies from
    C($DHCPSERVER)), C(nova-project-network) (accept everything from C($PROJNET)/C($PROJMASK), Nova's
    C(allow_same_net_traffic)) and C(nova-firewall-base) (drop INVALID, accept ESTABLISHED/RELATED, accept
    everything the guest sends, drop every other inbound packet)."
  - "Rule priorities order the merged rules of all referenced filters: 100 INVALID, 110 ESTABLISHED/RELATED,
    120 DHCP, 130 project network, 500 security group rules, 900 egress, 1000 the final inbound drop.
    Every filter here is in chain root (Nova put nova-allow-dhcp-server in ipv4), because libvirt places the
    iptables rules of filters in other chains after root's, behind the final drop."
  - "Each O(instance_filters) entry gives C(nova-instance-<instance_name>-<mac without colons>), which references
    C(nova-base) (or C(nova-nodhcp) when O(instance_filters[].dhcp=false)), C(nova-firewall-base),
    C(nova-allow-dhcp-server) (with DHCP), C(nova-project-network) (with O(instance_filters[].allow_same_net_traffic))
    and C(nova-secgroup-<group>) for each of its groups. The values come from the domain interface's filterref
    (see M(novalite.compute.libvirt_domain))."
  - "With the C(default) group, an instance gets this rule list: drop INVALID, accept ESTABLISHED/RELATED,
    accept DHCP from the DHCP server, accept the project network, accept icmp and tcp 22 and 80 from anywhere,
    drop the rest inbound. When an instance filter uses C(default) and it is neither in O(security_groups) nor
    defined yet, it is defined with icmp, tcp 22 and tcp 80 from V(0.0.0.0/0)."
  - "With O(firewall_driver=iptables) (Nova's libvirt C(IptablesFirewallDriver), which used C(NWFilterFirewall) for
    anti-spoofing only) each instance filter references only C(nova-base) (or C(nova-nodhcp)), and the firewall is
    in iptables chains written with one C(iptables-restore -w --noflush) for the whole call, under the lock
    C(nova-iptables) in O(locks_path): C(nova-sg-<group>) with one ACCEPT per inbound rule of the group, and per
    interface C(nova-vif-<mac without colons>) (drop INVALID, accept ESTABLISHED/RELATED, DHCP replies from
    O(instance_filters[].dhcp_server), the O(instance_filters[].project_cidr), then a jump to each group's chain,
    then drop), jumped to from FORWARD for C(-d <address>/32) above the bridges' accepts. libvirt then runs about a
    third fewer firewall commands per interface at each domain start. A changed group is one rewritten chain that
    every guest using it jumps to. A group name too long for a chain name (28 characters) keeps its start and
    gets a hash of the whole name."
  - With O(firewall_driver=iptables) and O(state=absent) the interfaces' chains (and the chains of the groups
    given) are removed too, besides the filters.
  - All input is checked before anything changes; a bad rule is refused naming its group, its index and the value.
author:
  - novalite.compute contributors (@novalite)
requirements:
  - libvirt-python (Debian python3-libvirt), lxml and netaddr on the compute host
options:
  uri:
    description: libvirt connection URI.
    type: str
    default: qemu:///system
  state:
    description:
      - V(present) defines the filters given; V(absent) removes them (for V(absent) only names and MACs are used).
    type: str
    choices: [present, absent]
    default: present
  firewall_driver:
    description:
      - V(nwfilter) makes the security groups nwfilters (Nova's C(NWFilterFirewall)); V(iptables) makes them
        iptables chains and keeps only the anti-spoofing in nwfilters (Nova's libvirt C(IptablesFirewallDriver)).
    type: str
    choices: [nwfilter, iptables]
    default: nwfilter
  locks_path:
    description: Directory of the C(nova-iptables) lock file that every iptables writer of the collection takes.
    type: path
    default: /var/lib/novalite/locks
  base_filters:
    description:
      - Also act on the base filters (C(nova-base), C(nova-nodhcp), C(nova-allow-dhcp-server),
        C(nova-project-network), C(nova-firewall-base)).
      - With O(state=present) and O(instance_filters) they must be given here or already exist.
    type: bool
    default: false
  security_groups:
    description: Security groups, each defined as the filter C(nova-secgroup-<name>) holding one accept rule per rule.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Group name (letters, digits, C(_), C(.), C(-), starting with a letter or digit; at most 64).
        type: str
        required: true
      rules:
        description: The group's rules, in order.
        type: list
        elements: dict
        default: []
        suboptions:
          direction:
            description:
              - V(in) traffic to the guest (the cidr is the source); V(out) traffic from it (the cidr is the
                destination).
              - Egress is open in C(nova-firewall-base) (Nova had no egress rules), so V(out) rules add nothing.
            type: str
            choices: [in, out]
            default: in
          protocol:
            description: Protocol to accept.
            type: str
            choices: [tcp, udp, icmp, all]
            required: true
          port:
            description: One destination port (V(tcp)/V(udp)), 1-65535.
            type: int
          port_range_min:
            description:
              - First destination port of a range (V(tcp)/V(udp)), 1-65535; with
                O(security_groups[].rules[].port_range_max).
            type: int
          port_range_max:
            description: Last destination port of a range (V(tcp)/V(udp)), 1-65535, not below the first.
            type: int
          cidr:
            description: Remote IPv4 network, a network address (V(10.1.0.0/16), not V(10.1.2.3/16)).
            type: str
            default: 0.0.0.0/0
          icmp_type:
            description: ICMP type (0-255), V(icmp) only.
            type: int
          icmp_code:
            description: ICMP code (0-255), V(icmp) only, needs O(security_groups[].rules[].icmp_type).
            type: int
  instance_filters:
    description: Per-interface filters, C(nova-instance-<instance_name>-<mac without colons>).
    type: list
    elements: dict
    default: []
    suboptions:
      instance_name:
        description: The instance's libvirt name (C(instance-%08x)).
        type: str
        required: true
      mac:
        description: The interface's MAC address (unicast).
        type: str
        required: true
      security_groups:
        description:
          - Names of the groups whose filters it references; each must be in O(security_groups), be V(default) or
            already be defined on the host.
        type: list
        elements: str
        default: [default]
      dhcp:
        description: The VIF's subnet has a DHCP server (Nova's choice between C(nova-base) and C(nova-nodhcp)).
        type: bool
        default: true
      allow_same_net_traffic:
        description: Accept everything from the project network (Nova's C(allow_same_net_traffic)).
        type: bool
        default: true
      address:
        description:
          - The interface's fixed IPv4 address; with O(firewall_driver=iptables), the traffic to it goes through its
            chain. Without it the chain is not jumped to.
        type: str
      dhcp_server:
        description: The DHCP server of the interface's subnet, whose replies its chain accepts (iptables driver).
        type: str
      project_cidr:
        description:
          - The interface's project network, which its chain accepts with
            O(instance_filters[].allow_same_net_traffic) (iptables driver).
        type: str
  in_use_timeout:
    description: Seconds to keep retrying the undefinition of a filter that libvirt says is still in use.
    type: int
    default: 30
seealso:
  - module: novalite.compute.libvirt_domain
extends_documentation_fragment:
  - novalite.compute.attributes
notes:
  - In diff mode there is one entry per created, changed or removed filter (its XML without the uuid, before and after),
    and with O(firewall_driver=iptables) one for the chains when they change (iptables-save lines).
"""

EXAMPLES = r"""
- name: Base filters, the default group and an instance's filter
  novalite.compute.nwfilter:
    base_filters: true
    instance_filters:
      - instance_name: instance-0000000a
        mac: fa:16:3e:5a:f4:23

- name: A web group that also opens 8080 and a port range from one network
  novalite.compute.nwfilter:
    security_groups:
      - name: web
        rules:
          - {protocol: tcp, port: 8080}
          - {protocol: tcp, port_range_min: 5000, port_range_max: 5100, cidr: 192.168.96.0/24}
          - {protocol: icmp, icmp_type: 8}

- name: Security groups as iptables chains, anti-spoofing in the interface's nwfilter
  novalite.compute.nwfilter:
    firewall_driver: iptables
    base_filters: true
    instance_filters:
      - instance_name: instance-0000000a
        mac: fa:16:3e:5a:f4:23
        address: 10.1.0.10
        dhcp_server: 10.1.0.1
        project_cidr: 10.1.0.0/16
        security_groups: [default]

- name: Remove an instance's filter after its domain is gone
  novalite.compute.nwfilter:
    state: absent
    instance_filters:
      - {instance_name: instance-0000000a, mac: fa:16:3e:5a:f4:23}
"""

RETURN = r"""
failed_step:
  description: The step that failed while applying; everything this call had done before it was undone.
  returned: when applying failed
  type: str
  sample: defining nwfilter nova-instance-instance-0000000a-fa163e5af423
rolled_back:
  description: What was undone after a failure while applying, newest first.
  returned: when applying failed
  type: list
  elements: str
  sample: [undefine nwfilter nova-secgroup-default, restore nwfilter nova-base]
rollback_failures:
  description: Undos that failed themselves (the host may need a look), as messages; empty when all were undone.
  returned: when applying failed
  type: list
  elements: str
  sample: []
firewall_driver:
  description: The firewall driver of this call.
  returned: always
  type: str
  sample: iptables
chains:
  description:
    - With O(firewall_driver=iptables), the chains of this call as they are after it (or would be, in check mode);
      a removed chain is not listed.
  returned: when O(firewall_driver=iptables)
  type: list
  elements: dict
  sample:
    - name: nova-sg-default
      rules: [-p icmp -j ACCEPT, -p tcp -m tcp --dport 22 -j ACCEPT, -p tcp -m tcp --dport 80 -j ACCEPT]
      hooks: []
  contains:
    name:
      description: Chain name, in table C(filter).
      type: str
      returned: always
      sample: nova-vif-fa163e5af423
    rules:
      description: Its rules, in order, as iptables-save prints them without C(-A <chain>).
      type: list
      elements: str
      returned: always
      sample: [-m conntrack --ctstate INVALID -j DROP, -s 10.1.0.0/16 -j ACCEPT, -j nova-sg-default, -j DROP]
    hooks:
      description: The jumps to it from builtin chains, as C(<chain> <rule>).
      type: list
      elements: str
      returned: always
      sample: [FORWARD -d 10.1.0.10/32 -j nova-vif-fa163e5af423]
filters:
  description: Every filter acted on, in the order it was handled.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: nova-base, action: unchanged, uuid: 3c1b5e0a-2f4d-4b8e-9a61-7d0c2e5f8a14}
    - {name: nova-instance-instance-0000000a-fa163e5af423, action: created, uuid: 9b2f6d1e-0c3a-4e7b-8f5d-1a2b3c4d5e6f}
  contains:
    name:
      description: Filter name.
      type: str
      returned: always
      sample: nova-instance-instance-0000000a-fa163e5af423
    action:
      description:
        - What was, or in check mode would be, done; one of V(created), V(updated), V(unchanged), V(removed)
          or V(absent).
      type: str
      returned: always
      sample: created
    uuid:
      description:
        - The filter's uuid after the call (null when it does not exist, or is yet to be created in check mode).
      type: str
      returned: always
      sample: 9b2f6d1e-0c3a-4e7b-8f5d-1a2b3c4d5e6f
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_LIBVIRT_URI, DEFAULT_LOCKS_PATH)
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter import (
    DEFAULT_GROUP, DIRECTIONS, FIREWALL_DRIVERS, NWFILTER_DRIVER, PROTOCOLS, ensure_nwfilters)

RULE_OPTIONS = dict(
    direction=dict(type="str", choices=list(DIRECTIONS), default="in"),
    protocol=dict(type="str", choices=list(PROTOCOLS), required=True),
    port=dict(type="int"), port_range_min=dict(type="int"), port_range_max=dict(type="int"),
    cidr=dict(type="str", default="0.0.0.0/0"), icmp_type=dict(type="int"), icmp_code=dict(type="int"),
)
ARGUMENT_SPEC = dict(
    uri=dict(type="str", default=DEFAULT_LIBVIRT_URI),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    firewall_driver=dict(type="str", choices=list(FIREWALL_DRIVERS), default=NWFILTER_DRIVER),
    locks_path=dict(type="path", default=DEFAULT_LOCKS_PATH),
    base_filters=dict(type="bool", default=False),
    security_groups=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        rules=dict(type="list", elements="dict", default=[], options=RULE_OPTIONS,
                   mutually_exclusive=[("port", "port_range_min"), ("port", "port_range_max")],
                   required_together=[("port_range_min", "port_range_max")],
                   required_by={"icmp_code": "icmp_type"}),
    )),
    instance_filters=dict(type="list", elements="dict", default=[], options=dict(
        instance_name=dict(type="str", required=True), mac=dict(type="str", required=True),
        security_groups=dict(type="list", elements="str", default=[DEFAULT_GROUP]),
        dhcp=dict(type="bool", default=True), allow_same_net_traffic=dict(type="bool", default=True),
        address=dict(type="str"), dhcp_server=dict(type="str"), project_cidr=dict(type="str"),
    )),
    in_use_timeout=dict(type="int", default=30),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, ensure_nwfilters)


if __name__ == "__main__":
    main()
