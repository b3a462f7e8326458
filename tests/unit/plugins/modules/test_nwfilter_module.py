"""The nwfilter module as Ansible runs it: arguments, documentation, check mode."""

from ansible_collections.novalite.compute.plugins.modules import nwfilter
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import (
    assert_documented, run_main)

pytest_plugins = ("ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_fixtures",)


def test_documentation_matches_the_argument_spec():
    assert_documented(nwfilter)


def test_check_mode_through_main(conn, capsys):
    instance = {"instance_name": "instance-0000000a", "mac": "fa:16:3e:5a:f4:23"}
    args = {"base_filters": True, "instance_filters": [instance],
            "_ansible_check_mode": True, "_ansible_diff": True}
    result = run_main(nwfilter, args, capsys)
    assert result["changed"] is True and len(result["filters"]) == 7
    assert conn.nwfilters == {}


def test_port_and_range_are_mutually_exclusive(conn, capsys):
    rule = {"protocol": "tcp", "port": 80, "port_range_min": 80, "port_range_max": 81}
    result = run_main(nwfilter, {"security_groups": [{"name": "web", "rules": [rule]}]}, capsys)
    assert result["failed"] and "mutually exclusive" in result["msg"]
    assert conn.nwfilters == {}


def test_bad_cidr_is_refused_before_anything(conn, capsys):
    rule = {"protocol": "tcp", "port": 80, "cidr": "300.1.0.0/16"}
    result = run_main(nwfilter, {"security_groups": [{"name": "web", "rules": [rule]}]}, capsys)
    assert result["failed"] and "cidr '300.1.0.0/16'" in result["msg"]
    assert conn.nwfilters == {}


def test_an_unexpected_error_while_defining_is_undone_and_fails_cleanly(conn, capsys):
    """Any exception, not only a libvirt error: fail_json naming the step, and the filters made before undefined."""
    original = conn.nwfilterDefineXML

    def crash_on_the_instance_filter(xml):
        if "nova-instance-" in xml:
            raise OSError(12, "Cannot allocate memory")
        return original(xml)
    conn.nwfilterDefineXML = crash_on_the_instance_filter
    instance = {"instance_name": "instance-0000000a", "mac": "fa:16:3e:5a:f4:23"}
    result = run_main(nwfilter, {"base_filters": True, "instance_filters": [instance]}, capsys)
    step = "defining nwfilter nova-instance-instance-0000000a-fa163e5af423"
    assert result["failed"] and result["msg"] == step + ": Cannot allocate memory"
    assert result["failed_step"] == step
    assert len(result["rolled_back"]) == 6 and result["rollback_failures"] == []
    assert conn.nwfilters == {}
