"""The config_drive module: its decisions in check mode, and a failure as Ansible reports it."""

import errno
from types import SimpleNamespace

from ansible_collections.novalite.compute.plugins.module_utils.compute import config_drive
from ansible_collections.novalite.compute.plugins.module_utils.compute.config_drive import ensure_config_drives
from ansible_collections.novalite.compute.plugins.modules import config_drive as module
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import (
    assert_documented, run_main)


def record(number, config_drive):
    return {"uuid": "00000000-0000-4000-8000-%012d" % number, "name": "instance-%08x" % number,
            "display_name": "vm %d" % number, "hostname": "vm-%d" % number, "config_drive": config_drive}


def uuid(number):
    return record(number, True)["uuid"]


def check_mode_run(tmp_path, instances, state="present"):
    params = {"instances": instances, "instances_path": str(tmp_path), "state": state, "user_data": None,
              "admin_password": None, "injected_files": []}
    return ensure_config_drives(SimpleNamespace(params=params, check_mode=True))


def test_documentation_matches_the_argument_spec():
    assert_documented(module)


def test_builds_the_wanted_missing_drives_and_removes_the_unwanted_present_ones(tmp_path):
    present = tmp_path / "instance-00000002" / "disk.config"
    present.parent.mkdir()
    present.write_bytes(b"iso")
    result = check_mode_run(tmp_path, [record(1, True), record(2, False), record(3, False)])
    wanted = str(tmp_path / "instance-00000001" / "disk.config")
    assert result == {"changed": True, "config_drives": {uuid(1): wanted, uuid(2): None, uuid(3): None},
                      "secrets": {uuid(1): [], uuid(2): [], uuid(3): []},
                      "diff": {"before": {uuid(1): None, uuid(2): str(present), uuid(3): None},
                               "after": {uuid(1): wanted, uuid(2): None, uuid(3): None}}}
    assert present.exists()


def test_absent_wants_no_drive_and_a_present_drive_is_unchanged(tmp_path):
    drive = tmp_path / "instance-00000001" / "disk.config"
    drive.parent.mkdir()
    drive.write_bytes(b"iso")
    assert check_mode_run(tmp_path, [record(1, True)])["changed"] is False
    result = check_mode_run(tmp_path, [record(1, True)], state="absent")
    assert result["changed"] is True and result["config_drives"] == {uuid(1): None}


def test_an_os_error_while_writing_fails_naming_the_step_and_leaves_nothing(monkeypatch, tmp_path, capsys):
    written = []

    def write_until_the_disk_is_full(path, text):
        if "instance-00000002" in path:  # the first drive's files went in; the second drive's first does not
            raise OSError(errno.ENOSPC, "No space left on device", path)
        written.append(path)

    monkeypatch.setattr(config_drive, "_write", write_until_the_disk_is_full)
    result = run_main(module, {"instances": [record(1, True), record(2, True)], "instances_path": str(tmp_path)},
                      capsys)
    second = str(tmp_path / "instance-00000002" / "disk.config")
    assert result["failed"] and result["failed_step"] == "build config drive %s" % second
    assert result["msg"].startswith("build config drive %s: No space left on device" % second)
    assert result["rolled_back"] == ["build config drive %s" % second,
                                     "build config drive %s" % (tmp_path / "instance-00000001" / "disk.config")]
    assert result["rollback_failures"] == [] and list(tmp_path.iterdir()) == []
