"""Security-group rules as data, their nwfilter XML, and instance filters."""

import pytest
from lxml import etree

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.virt.instance_filters import parse_instance_filters
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter_config import FilterConfig
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter_static import base_filters
from ansible_collections.novalite.compute.plugins.module_utils.virt.security_groups import default_group, parse_groups


def rules_of(config):
    return [(rule.get("action"), rule.get("direction"), rule.get("priority"), rule[0].tag, dict(rule[0].attrib))
            for rule in etree.fromstring(config.to_xml()).findall("rule")]


def test_default_group_is_the_seeds_icmp_ssh_http():
    config = default_group().filter_config()
    assert config.name == "nova-secgroup-default"
    assert rules_of(config) == [
        ("accept", "in", "500", "icmp", {}),
        ("accept", "in", "500", "tcp", {"dstportstart": "22"}),
        ("accept", "in", "500", "tcp", {"dstportstart": "80"}),
    ]


def test_rule_fields_become_libvirt_attributes():
    [group] = parse_groups([{"name": "web", "rules": [
        {"protocol": "tcp", "port_range_min": 8000, "port_range_max": 8080, "cidr": "192.168.96.0/24"},
        {"protocol": "udp", "port": 53, "direction": "out", "cidr": "10.0.0.0/8"},
        {"protocol": "icmp", "icmp_type": 8, "icmp_code": 0},
        {"protocol": "all", "cidr": "10.1.0.0/16"},
    ]}])
    assert rules_of(group.filter_config()) == [
        ("accept", "in", "500", "tcp", {"dstportend": "8080", "dstportstart": "8000", "srcipaddr": "192.168.96.0",
                                        "srcipmask": "24"}),
        ("accept", "out", "500", "udp", {"dstipaddr": "10.0.0.0", "dstipmask": "8", "dstportstart": "53"}),
        ("accept", "in", "500", "icmp", {"code": "0", "type": "8"}),
        ("accept", "in", "500", "all", {"srcipaddr": "10.1.0.0", "srcipmask": "16"}),
    ]


@pytest.mark.parametrize("rule, message", [
    ({"protocol": "tcp", "port": 0}, "port 0: expected a whole number from 1 to 65535"),
    ({"protocol": "tcp", "port": 65536}, "port 65536"),
    ({"protocol": "tcp", "port_range_min": 90, "port_range_max": 80}, "port_range_min 90 is above port_range_max 80"),
    ({"protocol": "tcp", "port_range_min": 80}, "port_range_max None"),
    ({"protocol": "tcp", "port": 80, "port_range_min": 80, "port_range_max": 81}, "not both"),
    ({"protocol": "icmp", "port": 80}, "ports apply to tcp and udp only"),
    ({"protocol": "tcp", "icmp_type": 8}, "apply to icmp only"),
    ({"protocol": "icmp", "icmp_code": 0}, "icmp_code needs an icmp_type"),
    ({"protocol": "icmp", "icmp_type": 256}, "icmp_type 256"),
    ({"protocol": "tcp", "port": 22, "cidr": "10.1.0.0/40"}, "cidr '10.1.0.0/40': expected an IPv4 network"),
    ({"protocol": "tcp", "port": 22, "cidr": "10.1.2.3/16"}, "did you mean 10.1.0.0/16"),
    ({"protocol": "gre"}, "protocol 'gre': expected one of tcp, udp, icmp, all"),
    ({"protocol": "tcp", "direction": "both"}, "direction 'both'"),
    ({"protocol": "tcp", "ports": 22}, "unknown field.*ports"),
])
def test_bad_rules_are_refused_with_their_value(rule, message):
    with pytest.raises(InvalidInput, match=message):
        parse_groups([{"name": "web", "rules": [rule]}])


@pytest.mark.parametrize("name", ["web server", "web/1", "-web", "a" * 65, "wéb", ""])
def test_group_names_libvirt_and_chains_cannot_take(name):
    with pytest.raises(InvalidInput, match="expected 1 to 64 letters"):
        parse_groups([{"name": name}])


def test_duplicate_groups_are_refused():
    with pytest.raises(InvalidInput, match="appears twice"):
        parse_groups([{"name": "web"}, {"name": "web"}])


def test_instance_filter_references_base_frame_and_groups():
    [dhcp, nodhcp] = parse_instance_filters([
        {"instance_name": "instance-0000000a", "mac": "FA:16:3E:5A:F4:23"},
        {"instance_name": "instance-0000000b", "mac": "fa:16:3e:5a:f4:24", "dhcp": False,
         "allow_same_net_traffic": False, "security_groups": ["web", "default"]},
    ])
    assert dhcp.filter_name == "nova-instance-instance-0000000a-fa163e5af423"
    assert dhcp.filter_config().referenced == ["nova-base", "nova-firewall-base", "nova-allow-dhcp-server",
                                               "nova-project-network", "nova-secgroup-default"]
    assert nodhcp.filter_config().referenced == ["nova-nodhcp", "nova-firewall-base", "nova-secgroup-web",
                                                 "nova-secgroup-default"]


@pytest.mark.parametrize("entry, message", [
    ({"instance_name": "instance 1", "mac": "fa:16:3e:5a:f4:23"}, "instance_name 'instance 1'"),
    ({"instance_name": "instance-1", "mac": "ff:ff:ff:ff:ff:ff"}, "unicast"),
    ({"instance_name": "instance-1", "mac": "fa:16:3e:5a:f4:23", "security_groups": ["we b"]}, "security group 'we b'"),
    ({"instance_name": "instance-1", "mac": "fa:16:3e:5a:f4:23", "dhcp": "yes"}, "dhcp 'yes': expected true or false"),
])
def test_bad_instance_filters(entry, message):
    with pytest.raises(InvalidInput, match=message):
        parse_instance_filters([entry])


def test_base_filters_are_novas_plus_the_firewall_frame():
    configs = {config.name: config for config in base_filters()}
    assert configs["nova-base"].referenced == ["no-mac-spoofing", "no-ip-spoofing", "no-arp-spoofing",
                                               "allow-dhcp-server"]
    assert configs["nova-nodhcp"].referenced == ["no-mac-spoofing", "no-ip-spoofing", "no-arp-spoofing"]
    frame = rules_of(configs["nova-firewall-base"])
    assert frame[0] == ("drop", "in", "100", "all", {"state": "INVALID"})
    assert frame[1] == ("accept", "in", "110", "all", {"state": "ESTABLISHED,RELATED"})
    assert frame[-1] == ("drop", "in", "1000", "all", {})
    # statematch='false' would make libvirt drop the state match: never set here
    # libvirt orders the iptables rules of non-root filters after root's: all must be root
    assert {config.chain for config in configs.values()} == {"root"}
    assert "statematch" not in "".join(config.to_xml() for config in configs.values())


def test_libvirt_echo_of_a_filter_parses_back_equal():
    config = default_group().filter_config()
    echo = """<filter name='nova-secgroup-default' chain='root'>
      <uuid>ca8b0943-e452-4d6f-b003-e9774b197810</uuid>
      <rule action='accept' direction='in' priority='500'><icmp/></rule>
      <rule action='accept' direction='in' priority='500'><tcp dstportstart='0x16'/></rule>
      <rule action='accept' direction='in' priority='500'><tcp dstportstart='80'/></rule>
    </filter>"""
    assert FilterConfig.parse_str(echo).to_xml() == config.to_xml()
