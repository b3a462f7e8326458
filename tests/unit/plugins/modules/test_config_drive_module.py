"""The config_drive module's decisions, in check mode: which drives it would build and remove."""

from types import SimpleNamespace

from ansible_collections.novalite.compute.plugins.modules.config_drive import ensure_config_drives


def record(number, config_drive):
    return {"uuid": "uuid-%d" % number, "name": "instance-%08x" % number, "display_name": "vm %d" % number,
            "hostname": "vm-%d" % number, "config_drive": config_drive}


def check_mode_run(tmp_path, instances, state="present"):
    params = {"instances": instances, "instances_path": str(tmp_path), "state": state, "user_data": None,
              "admin_password": None, "injected_files": []}
    return ensure_config_drives(SimpleNamespace(params=params, check_mode=True))


def test_builds_the_wanted_missing_drives_and_removes_the_unwanted_present_ones(tmp_path):
    present = tmp_path / "instance-00000002" / "disk.config"
    present.parent.mkdir()
    present.write_bytes(b"iso")
    result = check_mode_run(tmp_path, [record(1, True), record(2, False), record(3, False)])
    wanted = str(tmp_path / "instance-00000001" / "disk.config")
    assert result == {"changed": True, "config_drives": {"uuid-1": wanted, "uuid-2": None, "uuid-3": None},
                      "diff": {"before": {"uuid-1": None, "uuid-2": str(present), "uuid-3": None},
                               "after": {"uuid-1": wanted, "uuid-2": None, "uuid-3": None}}}
    assert present.exists()


def test_absent_wants_no_drive_and_a_present_drive_is_unchanged(tmp_path):
    drive = tmp_path / "instance-00000001" / "disk.config"
    drive.parent.mkdir()
    drive.write_bytes(b"iso")
    assert check_mode_run(tmp_path, [record(1, True)])["changed"] is False
    result = check_mode_run(tmp_path, [record(1, True)], state="absent")
    assert result["changed"] is True and result["config_drives"] == {"uuid-1": None}
