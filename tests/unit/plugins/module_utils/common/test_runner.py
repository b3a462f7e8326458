import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked, succeeds
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import CommandFailed


def fake_run(rc, out="", err=""):
    calls = []

    def run_command(args, **kwargs):
        calls.append(args)
        return rc, out, err
    run_command.calls = calls
    return run_command


def test_run_checked_passes_argument_list_and_returns_stdout():
    run = fake_run(0, out="ok")
    assert run_checked(run, ["ip", "link", "show", 5]) == "ok"
    assert run.calls == [["ip", "link", "show", "5"]]


def test_run_checked_raises_with_command_and_stderr():
    with pytest.raises(CommandFailed) as caught:
        run_checked(fake_run(2, err="Cannot find device\n"), ["ip", "link", "show", "br9"])
    assert "ip link show br9" in caught.value.msg
    assert "Cannot find device" in caught.value.msg
    assert caught.value.details["rc"] == 2


def test_succeeds_reports_exit_status():
    assert succeeds(fake_run(0), ["true"])
    assert not succeeds(fake_run(1), ["false"])
