"""Security groups, their rules and instance filters as nwfilter XML; the nwfilter service against a fake
libvirt: order, uuid reuse, idempotence, in-use retries, rollback."""

import os
import subprocess
import sys

import pytest
from lxml import etree

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter import (
    NwfilterService, base_filters, default_group, instance_filter_name, parse_groups, parse_instance_filters,
    require_known_groups)
from ansible_collections.novalite.compute.plugins.modules.nwfilter import ARGUMENT_SPEC
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import (
    FakeClock, libvirt_error)

INSTANCE = {"instance_name": "instance-0000000a", "mac": "fa:16:3e:5a:f4:23"}
INSTANCE_FILTER = "nova-instance-instance-0000000a-fa163e5af423"
BASE = ["nova-nodhcp", "nova-base", "nova-allow-dhcp-server", "nova-project-network", "nova-firewall-base"]


@pytest.fixture
def ensure(conn):
    def run(check_mode=False, **options):
        params = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
        params.update(options)
        clock = FakeClock()
        return NwfilterService(params, clock=clock, sleep=clock.sleep).ensure(check_mode, diff=True)
    return run


def actions(result):
    return [(entry["name"], entry["action"]) for entry in result["filters"]]


def test_first_run_defines_base_default_group_and_instance_filter_in_order(conn, ensure):
    result = ensure(base_filters=True, instance_filters=[INSTANCE])
    assert actions(result) == [(name, "created") for name in BASE + ["nova-secgroup-default", INSTANCE_FILTER]]
    assert sorted(conn.nwfilters) == sorted(BASE + ["nova-secgroup-default", INSTANCE_FILTER])
    assert all(entry["uuid"] for entry in result["filters"])


def test_check_mode_then_idempotent_runs(conn, ensure):
    checked = ensure(check_mode=True, base_filters=True, instance_filters=[INSTANCE])
    assert checked["changed"] and conn.nwfilters == {}
    assert len(checked["diff"]) == 7
    ensure(base_filters=True, instance_filters=[INSTANCE])
    before = conn.snapshot()
    for check_mode in (True, False):
        again = ensure(check_mode=check_mode, base_filters=True, instance_filters=[INSTANCE])
        assert again["changed"] is False and again["diff"] == []
        assert {action for _name, action in actions(again)} == {"unchanged"}
    assert conn.snapshot() == before


def test_a_rule_change_redefines_under_the_same_uuid(conn, ensure):
    ensure(security_groups=[{"name": "web", "rules": [{"protocol": "tcp", "port": 80}]}])
    uuid = conn.nwfilters["nova-secgroup-web"].UUIDString()
    result = ensure(security_groups=[{"name": "web", "rules": [{"protocol": "tcp", "port": 8080}]}])
    assert actions(result) == [("nova-secgroup-web", "updated")]
    assert result["filters"][0]["uuid"] == uuid
    assert 'dstportstart="80"' in result["diff"][0]["before"] and 'dstportstart="8080"' in result["diff"][0]["after"]
    assert "8080" in conn.nwfilters["nova-secgroup-web"].xml


def test_unknown_group_fails_before_anything(conn, ensure):
    with pytest.raises(InvalidInput, match="security group web .* is neither in security_groups nor defined"):
        ensure(base_filters=True, instance_filters=[dict(INSTANCE, security_groups=["web"])])
    assert conn.nwfilters == {}


def test_instance_filters_need_the_base_filters(conn, ensure):
    with pytest.raises(InvalidInput, match="nova-base.* not defined; set base_filters: true"):
        ensure(instance_filters=[INSTANCE])
    assert conn.nwfilters == {}


def test_absent_removes_instances_then_groups_then_base(conn, ensure):
    ensure(base_filters=True, security_groups=[{"name": "web"}], instance_filters=[INSTANCE])
    result = ensure(state="absent", base_filters=True, security_groups=[{"name": "web"}], instance_filters=[INSTANCE])
    assert actions(result) == [(INSTANCE_FILTER, "removed"), ("nova-secgroup-web", "removed")] + [
        (name, "removed") for name in reversed(BASE)]
    assert sorted(conn.nwfilters) == ["nova-secgroup-default"]
    again = ensure(state="absent", instance_filters=[INSTANCE])
    assert actions(again) == [(INSTANCE_FILTER, "absent")] and again["changed"] is False


def test_undefine_is_retried_while_the_filter_is_in_use(conn, ensure):
    ensure(base_filters=True, instance_filters=[INSTANCE])
    conn.nwfilters[INSTANCE_FILTER].in_use_for = 3
    assert actions(ensure(state="absent", instance_filters=[INSTANCE])) == [(INSTANCE_FILTER, "removed")]


def test_in_use_past_the_timeout_fails_and_restores(conn, ensure):
    ensure(base_filters=True, security_groups=[{"name": "web"}], instance_filters=[INSTANCE])
    conn.nwfilters["nova-secgroup-web"].in_use_for = 1000
    before = sorted(conn.nwfilters)
    with pytest.raises(NovaliteError, match="nwfilter is in use \\(still in use after 5s"):
        ensure(state="absent", in_use_timeout=5, security_groups=[{"name": "web"}], instance_filters=[INSTANCE])
    assert sorted(conn.nwfilters) == before  # the instance filter removed first was put back


def test_a_failed_define_undoes_the_filters_created_before_it(conn, ensure):
    original = conn.nwfilterDefineXML

    def refuse_the_instance_filter(xml):
        if INSTANCE_FILTER in xml:
            raise libvirt_error(1, "internal error: simulated")
        return original(xml)
    conn.nwfilterDefineXML = refuse_the_instance_filter
    message = "defining nwfilter %s: internal error: simulated" % INSTANCE_FILTER
    with pytest.raises(NovaliteError, match=message) as failure:
        ensure(base_filters=True, instance_filters=[INSTANCE])
    assert conn.nwfilters == {}
    assert failure.value.details["failed_step"] == "defining nwfilter " + INSTANCE_FILTER
    assert failure.value.details["rolled_back"] == ["undefine nwfilter " + name
                                                    for name in reversed(BASE + ["nova-secgroup-default"])]
    assert failure.value.details["rollback_failures"] == []


@pytest.mark.parametrize("error", [OSError(12, "Cannot allocate memory"), RuntimeError("connection reset")])
def test_any_exception_while_defining_undoes_and_names_the_step(conn, ensure, error):
    """Not only libvirt errors: whatever a call raises, the filters made before it are undefined again."""
    original = conn.nwfilterDefineXML

    def crash_on_the_group(xml):
        if "nova-secgroup-web" in xml:
            raise error
        return original(xml)
    conn.nwfilterDefineXML = crash_on_the_group
    with pytest.raises(NovaliteError) as failure:
        ensure(base_filters=True, security_groups=[{"name": "web"}])
    assert failure.value.details["failed_step"] == "defining nwfilter nova-secgroup-web"
    assert failure.value.msg.startswith("defining nwfilter nova-secgroup-web: ")
    assert failure.value.details["rolled_back"] == ["undefine nwfilter " + name for name in reversed(BASE)]
    assert conn.nwfilters == {}


def test_a_failed_update_restores_the_definitions_it_changed(conn, ensure):
    ensure(security_groups=[{"name": "web", "rules": [{"protocol": "tcp", "port": 80}]},
                            {"name": "db", "rules": [{"protocol": "tcp", "port": 5432}]}])
    before = conn.snapshot()
    original = conn.nwfilterDefineXML

    def refuse_db(xml):
        if "nova-secgroup-db" in xml and "5433" in xml:
            raise libvirt_error(1, "internal error: simulated")
        return original(xml)
    conn.nwfilterDefineXML = refuse_db
    with pytest.raises(NovaliteError) as failure:
        ensure(security_groups=[{"name": "web", "rules": [{"protocol": "tcp", "port": 8080}]},
                                {"name": "db", "rules": [{"protocol": "tcp", "port": 5433}]}])
    assert failure.value.details["rolled_back"] == ["restore nwfilter nova-secgroup-web"]
    assert conn.snapshot()[1]["nova-secgroup-web"][1] == before[1]["nova-secgroup-web"][1]
    assert "8080" not in conn.nwfilters["nova-secgroup-web"].xml


def test_negative_in_use_timeout_is_refused(conn, ensure):
    with pytest.raises(InvalidInput, match="in_use_timeout -1"):
        ensure(state="absent", in_use_timeout=-1)


def rules_of(config):
    return [(rule.get("action"), rule.get("direction"), rule.get("priority"), rule[0].tag, dict(rule[0].attrib))
            for rule in etree.fromstring(config.to_xml()).findall("rule")]


def test_default_group_is_icmp_ssh_http():
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
    ({"protocol": "tcp", "port": 22, "cidr": "10.1.2.3/16"},
     "host bits set: expected the network address, 10.1.0.0/16"),
    ({"protocol": "gre"}, "protocol 'gre': expected one of tcp, udp, icmp, all"),
    ({"protocol": "tcp", "direction": "both"}, "direction 'both'"),
    ({"protocol": "tcp", "ports": 22}, "unknown field.*ports"),
])
def test_bad_rules_are_refused_with_their_value(rule, message):
    with pytest.raises(InvalidInput, match=message):
        parse_groups([{"name": "web", "rules": [rule]}])


@pytest.mark.parametrize("rule, value", [
    ({"protocol": "tcp", "cidr": "10.1.0.0/33"}, "cidr '10.1.0.0/33'"),
    ({"protocol": "tcp", "port": 70000}, "port 70000"),
    ({"protocol": "sctp"}, "protocol 'sctp'"),
    ({"protocol": "tcp", "colour": "red"}, "unknown field(s) colour"),
    ("tcp/22", "expected a mapping, got 'tcp/22'"),
])
def test_a_bad_rule_names_its_group_its_index_and_the_value(rule, value):
    groups = [{"name": "ssh", "rules": [{"protocol": "tcp", "port": 22}]},
              {"name": "web", "rules": [{"protocol": "tcp", "port": 80}, rule]}]
    with pytest.raises(InvalidInput) as failure:
        parse_groups(groups)
    assert failure.value.msg.startswith("security group web rules[1]")
    assert value in failure.value.msg


def test_unknown_group_names_are_refused_by_a_plain_function():
    groups = parse_groups([{"name": "web"}])
    require_known_groups(["web", "default"], groups, "instance web-1")
    require_known_groups(["db"], groups, "instance web-1", defined=["db"])
    with pytest.raises(InvalidInput, match="security group db \\(used by instance web-1\\) is neither in "
                                           "security_groups nor defined as nwfilter nova-secgroup-db"):
        require_known_groups(["web", "db"], groups, "instance web-1")


def test_the_request_step_can_parse_groups_and_vifs_without_libvirt_or_lxml():
    """The controller has neither libvirt-python nor lxml: the parsers must import and run without them."""
    script = "\n".join([
        "import sys",
        "sys.modules['libvirt'] = sys.modules['lxml'] = sys.modules['lxml.etree'] = None",
        "from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput",
        "from ansible_collections.novalite.compute.plugins.module_utils.virt import guest, nwfilter",
        "[group] = nwfilter.parse_groups([{'name': 'web', 'rules': [{'protocol': 'tcp', 'port': 80}]}])",
        "assert group.rules[0]['ports'] == (80, 80)",
        "try:",
        "    nwfilter.parse_groups([{'name': 'web', 'rules': [{'protocol': 'tcp', 'cidr': '10.0.0.1/8'}]}])",
        "except InvalidInput as exc:",
        "    print(exc.msg)",
        "assert guest.parse_flavor({'memory_mb': 512, 'vcpus': 1}, 'flavor') == (512, 1)",
        "print(guest.parse_vif({'address': 'fa:16:3e:00:00:01', 'network': {'bridge': 'br100'}}, 'vif').mac)",
    ])
    collections_root = next(path for path in sys.path if path.endswith(".collections"))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                         env=dict(os.environ, PYTHONPATH=collections_root))
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "security group web rules[0] cidr '10.0.0.1/8' has host bits set: expected the network address, 10.0.0.0/8",
        "fa:16:3e:00:00:01"]


def test_filter_names():
    name = instance_filter_name("instance-0000002a", "fa:16:3e:12:34:56")
    assert name == "nova-instance-instance-0000002a-fa163e123456"


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
