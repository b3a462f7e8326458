"""The libvirt_domain module as Ansible runs it: arguments, documentation, check mode."""

from ansible_collections.novalite.compute.plugins.module_utils.virt import domain
from ansible_collections.novalite.compute.plugins.modules import libvirt_domain
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import (
    assert_documented, run_main)
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_samples import (
    SAMPLE_NAME, make_instance)

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


def test_an_oserror_writing_the_instance_dir_is_undone_and_fails_cleanly(conn, instances_path, capsys, monkeypatch):
    """Not a traceback: fail_json naming the step, with what was undone, and no domain left defined."""
    real_write = domain.write_atomic

    def disk_full_for_the_second(path, content):
        if SAMPLE_NAME in path:
            raise OSError(28, "No space left on device", path)
        return real_write(path, content)
    monkeypatch.setattr(domain, "write_atomic", disk_full_for_the_second)
    first = make_instance(instances_path, name="instance-00000003", uuid=None, network_info=[])
    second = make_instance(instances_path)
    result = run_main(libvirt_domain, {"instances": [first, second], "instances_path": str(instances_path)}, capsys)
    xml = str(instances_path / SAMPLE_NAME / "libvirt.xml")
    assert result["failed"] and result["msg"] == "writing %s: No space left on device: %s" % (xml, xml)
    assert result["failed_step"] == "writing " + xml
    assert result["rolled_back"][-1] == "restore %s" % (instances_path / "instance-00000003" / "libvirt.xml")
    assert "undefine instance-00000003" in result["rolled_back"] and result["rollback_failures"] == []
    assert conn.domains == {}
    assert not (instances_path / "instance-00000003" / "libvirt.xml").exists()
