"""Security groups as iptables chains (virt/iptables_firewall.py) and the nwfilter service with the
iptables driver, on a fake libvirt and a fake host's iptables."""

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.virt import iptables_firewall
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter import NwfilterService, parse_groups
from ansible_collections.novalite.compute.plugins.modules.nwfilter import ARGUMENT_SPEC
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import FakeClock
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_fixtures import (  # noqa: F401 pylint: disable=unused-import
    conn)

INSTANCE = {"instance_name": "instance-0000000a", "mac": "fa:16:3e:5a:f4:23", "address": "10.1.0.10",
            "dhcp_server": "10.1.0.1", "project_cidr": "10.1.0.0/16"}
VIF_CHAIN = "nova-vif-fa163e5af423"
HOOK = "-d 10.1.0.10/32 -j " + VIF_CHAIN
WEB = {"name": "web", "rules": [{"protocol": "tcp", "port": 8080}]}


@pytest.fixture
def ensure(conn, fake_host, tmp_path):
    def run(check_mode=False, **options):
        params = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
        params.update(firewall_driver="iptables", locks_path=str(tmp_path / "locks"), **options)
        clock = FakeClock()
        service = NwfilterService(params, fake_host.run_command, clock=clock, sleep=clock.sleep)
        return service.ensure(check_mode, diff=True)
    return run


def test_group_rules_in_iptables_save_spelling():
    group, = parse_groups([{"name": "g", "rules": [
        {"protocol": "tcp", "port": 22}, {"protocol": "udp", "port_range_min": 5000, "port_range_max": 5100,
                                          "cidr": "192.168.96.0/24"},
        {"protocol": "icmp", "icmp_type": 8}, {"protocol": "icmp", "icmp_type": 3, "icmp_code": 1},
        {"protocol": "all", "cidr": "10.2.0.0/16"}, {"protocol": "tcp", "direction": "out", "port": 25}]}])
    assert iptables_firewall.group_rules(group) == [
        "-p tcp -m tcp --dport 22 -j ACCEPT", "-s 192.168.96.0/24 -p udp -m udp --dport 5000:5100 -j ACCEPT",
        "-p icmp -m icmp --icmp-type 8 -j ACCEPT", "-p icmp -m icmp --icmp-type 3/1 -j ACCEPT",
        "-s 10.2.0.0/16 -j ACCEPT"]


def test_a_long_group_name_makes_a_short_distinct_chain_name():
    long_a, long_b = "a" * 64, "a" * 63 + "b"
    names = {iptables_firewall.group_chain_name(name) for name in (long_a, long_b)}
    assert len(names) == 2 and all(len(name) <= 28 and name.startswith("nova-sg-aaa") for name in names)
    assert iptables_firewall.group_chain_name("web") == "nova-sg-web"


def test_first_run_keeps_only_anti_spoofing_in_nwfilters_and_writes_chains_with_one_restore(conn, fake_host, ensure):
    checked = ensure(check_mode=True, base_filters=True, instance_filters=[INSTANCE])
    assert checked["changed"] and fake_host.restores == [] and conn.nwfilters == {}
    result = ensure(base_filters=True, instance_filters=[INSTANCE])
    assert result["changed"] and len(fake_host.restores) == 1
    assert "nova-secgroup-default" not in conn.nwfilters
    assert 'filterref filter="nova-base"' in conn.nwfilters["nova-instance-instance-0000000a-fa163e5af423"].XMLDesc(0)
    assert "nova-firewall-base" not in conn.nwfilters["nova-instance-instance-0000000a-fa163e5af423"].XMLDesc(0)
    assert fake_host.iptables["nova-sg-default"] == [
        "-p icmp -j ACCEPT", "-p tcp -m tcp --dport 22 -j ACCEPT", "-p tcp -m tcp --dport 80 -j ACCEPT"]
    assert fake_host.iptables[VIF_CHAIN] == [
        "-m conntrack --ctstate INVALID -j DROP", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-s 10.1.0.1/32 -p udp -m udp --sport 67 --dport 68 -j ACCEPT", "-s 10.1.0.0/16 -j ACCEPT",
        "-j nova-sg-default", "-j DROP"]
    assert fake_host.iptables["FORWARD"] == [HOOK]
    assert [chain["name"] for chain in result["chains"]] == ["nova-sg-default", VIF_CHAIN]
    assert "-A FORWARD " + HOOK in result["diff"][-1]["after"]
    for check_mode in (True, False):
        again = ensure(check_mode=check_mode, base_filters=True, instance_filters=[INSTANCE])
        assert again["changed"] is False and again["diff"] == []
    assert len(fake_host.restores) == 1


def test_a_group_change_rewrites_only_the_groups_chain(fake_host, ensure):
    instance = dict(INSTANCE, security_groups=["web"])
    ensure(base_filters=True, security_groups=[WEB], instance_filters=[instance])
    vif_rules = list(fake_host.iptables[VIF_CHAIN])
    changed = ensure(security_groups=[{"name": "web", "rules": [{"protocol": "tcp", "port": 8081}]}])
    assert changed["changed"] and fake_host.iptables["nova-sg-web"] == ["-p tcp -m tcp --dport 8081 -j ACCEPT"]
    assert fake_host.iptables[VIF_CHAIN] == vif_rules
    assert ":%s" % VIF_CHAIN not in fake_host.restores[-1]


def test_a_hook_below_a_bridges_accepts_is_moved_back_on_top(fake_host, ensure):
    ensure(base_filters=True, instance_filters=[INSTANCE])
    fake_host.iptables["nova-fwd-br100"] = ["-o br100 -j ACCEPT"]
    fake_host.iptables["FORWARD"] = ["-j nova-fwd-br100", HOOK]
    moved = ensure(instance_filters=[INSTANCE])
    assert moved["changed"] and fake_host.iptables["FORWARD"] == [HOOK, "-j nova-fwd-br100"]
    assert ensure(instance_filters=[INSTANCE])["changed"] is False


def test_absent_removes_the_interfaces_chain_and_filter_and_a_group_only_with_its_last_user(conn, fake_host, ensure):
    other = dict(INSTANCE, instance_name="instance-0000000b", mac="fa:16:3e:5a:f4:24", address="10.1.0.11")
    ensure(base_filters=True, instance_filters=[INSTANCE, other])
    removed = ensure(state="absent", instance_filters=[{"instance_name": INSTANCE["instance_name"],
                                                        "mac": INSTANCE["mac"]}])
    assert removed["changed"] and VIF_CHAIN not in fake_host.iptables
    assert fake_host.iptables["FORWARD"] == ["-d 10.1.0.11/32 -j nova-vif-fa163e5af424"]
    assert "nova-sg-default" in fake_host.iptables  # the other interface still jumps to it
    assert "nova-instance-instance-0000000a-fa163e5af423" not in conn.nwfilters
    assert ensure(state="absent", instance_filters=[INSTANCE])["changed"] is False
    ensure(state="absent", instance_filters=[other])
    assert [name for name in fake_host.iptables if name.startswith("nova-")] == []


def test_a_group_must_be_given_or_have_its_chain_on_the_host(conn, fake_host, ensure):
    with pytest.raises(InvalidInput, match="nosuch .* nor defined as iptables chain nova-sg-nosuch"):
        ensure(base_filters=True, instance_filters=[dict(INSTANCE, security_groups=["nosuch"])])
    assert conn.nwfilters == {} and fake_host.restores == []
    ensure(security_groups=[WEB])
    result = ensure(base_filters=True, instance_filters=[dict(INSTANCE, security_groups=["web"])])
    assert result["changed"] and fake_host.iptables[VIF_CHAIN][-2:] == ["-j nova-sg-web", "-j DROP"]


def test_a_failed_restore_undoes_the_filters_defined_before_it(conn, fake_host, ensure):
    fake_host.fail_on = "iptables-restore"
    with pytest.raises(NovaliteError) as failure:
        ensure(base_filters=True, instance_filters=[INSTANCE])
    assert failure.value.details["failed_step"] == "writing the security group chains"
    assert conn.nwfilters == {} and VIF_CHAIN not in fake_host.iptables
