"""The metadata server kept as a daemon: a real process on 127.0.0.1, started, found, replaced, stopped."""

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.network.metadata_service import (
    MetadataFiles, MetadataProcess, MetadataStep, server_arguments, server_source)
from ansible_collections.novalite.compute.plugins.module_utils.network.process import KEEP_RUNNING


def run_command(args, **_kwargs):
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=30)
    return done.returncode, done.stdout, done.stderr


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "facts").write_text(json.dumps({"fixed_ips": {}, "instances": {}, "networks": {}}))
    yield MetadataFiles(str(tmp_path), "br100")
    pid = MetadataProcess(MetadataFiles(str(tmp_path), "br100"), python=sys.executable).running()[0]
    if pid:
        os.kill(pid, 9)


def arguments(files, port):
    return server_arguments(files, "e011b388-163b-4080-a083-bb63ebed7f6a", "127.0.0.1", port,
                            os.path.join(files.directory, "facts"), os.path.join(files.directory, "instances"))


def step(files, args, source=None):
    return MetadataStep(run_command, MetadataProcess(files, python=sys.executable), args,
                        server_source() if source is None else source)


def status_of(port, path="/"):
    try:
        return urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5).status
    except urllib.error.HTTPError as error:
        return error.code


def test_start_is_idempotent_restarts_a_dead_server_replaces_a_changed_one_and_stops(files):
    port = free_port()
    first = step(files, arguments(files, port))
    assert first.changed and first.action == "start" and first.before["running"] is False
    first.apply()
    assert status_of(port) == 404  # 127.0.0.1 is no instance
    assert os.stat(files.log).st_mode & 0o777 == 0o600 and '"GET /" 404' in open(files.log).read()
    again = step(files, arguments(files, port))
    assert not again.changed and again.pid == first.pid

    os.kill(first.pid, 9)
    MetadataProcess(files).sleep(0.2)
    restarted = step(files, arguments(files, port))
    assert restarted.action == "start"
    restarted.apply()
    assert restarted.pid != first.pid and status_of(port) == 404

    other_port = free_port()
    replaced = step(files, arguments(files, other_port))
    assert replaced.action == "replace"
    replaced.apply()
    assert status_of(other_port) == 404
    newer_code = step(files, arguments(files, other_port), source=server_source() + "\n# newer\n")
    assert newer_code.action == "replace" and newer_code.write_code

    released = step(files, KEEP_RUNNING)
    assert not released.changed

    stopped = step(files, None)
    assert stopped.action == "stop" and stopped.after == {"code": None, "running": False, "arguments": None}
    stopped.apply()
    assert not any(os.path.exists(p) for p in (files.code, files.pid, files.log))
    assert not step(files, None).changed


def test_a_failed_start_says_why_and_the_undo_leaves_nothing(files):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        started = step(files, arguments(files, taken.getsockname()[1]))
        with pytest.raises(Exception, match="cannot listen on 127.0.0.1"):
            started.apply()
        started.undo()
    finally:
        taken.close()
    assert not os.path.exists(files.code) and MetadataProcess(files).running() == (None, None)


def test_a_pid_file_naming_another_process_is_not_trusted(files):
    with open(files.pid, "w") as handle:
        handle.write("%d\n" % os.getpid())  # this test's interpreter: python, but not our code file
    assert MetadataProcess(files, python=sys.executable).running() == (None, None)
