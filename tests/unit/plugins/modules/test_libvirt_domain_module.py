"""The libvirt_domain module as Ansible runs it: arguments, documentation, check mode."""

from ansible_collections.novalite.compute.plugins.modules import libvirt_domain
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import (
    assert_documented, run_main)
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_samples import make_instance

pytest_plugins = ("ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_fixtures",)


def test_documentation_matches_the_argument_spec():
    assert_documented(libvirt_domain)


def test_check_mode_through_main(conn, instances_path, capsys):
    args = {"instances": [make_instance(instances_path)], "instances_path": str(instances_path),
            "_ansible_check_mode": True, "_ansible_diff": True}
    result = run_main(libvirt_domain, args, capsys)
    assert result["changed"] is True and result["instances"][0]["changes"] == ["define", "write libvirt.xml"]
    assert result["diff"][0]["after"].startswith("<domain")
    assert conn.domains == {}


def test_unknown_flavor_field_is_refused_by_the_argument_spec(conn, instances_path, capsys):
    spec = make_instance(instances_path)
    spec["flavor"]["colour"] = "red"
    result = run_main(libvirt_domain, {"instances": [spec], "instances_path": str(instances_path)}, capsys)
    assert result["failed"] and "colour" in result["msg"]
    assert conn.domains == {}


def test_wait_for_port_needs_wait_port(conn, instances_path, capsys):
    args = {"instances": [{"name": "instance-00000002"}], "state": "running", "wait_for": "port"}
    result = run_main(libvirt_domain, args, capsys)
    assert result["failed"] and "wait_port" in result["msg"]


def test_a_module_error_becomes_fail_json(conn, instances_path, capsys):
    args = {"instances": [{"name": "instance 2"}], "state": "absent"}
    result = run_main(libvirt_domain, args, capsys)
    assert result["failed"] and result["msg"].startswith("instances[0] name 'instance 2'")
