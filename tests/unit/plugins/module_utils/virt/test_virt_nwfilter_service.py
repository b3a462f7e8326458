"""nwfilter's service against a fake libvirt: order, uuid reuse, idempotence, in-use retries, rollback."""

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter_service import NwfilterService
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
    with pytest.raises(NovaliteError, match="defining nwfilter %s: internal error: simulated" % INSTANCE_FILTER):
        ensure(base_filters=True, instance_filters=[INSTANCE])
    assert conn.nwfilters == {}


def test_negative_in_use_timeout_is_refused(conn, ensure):
    with pytest.raises(InvalidInput, match="in_use_timeout -1"):
        ensure(state="absent", in_use_timeout=-1)
