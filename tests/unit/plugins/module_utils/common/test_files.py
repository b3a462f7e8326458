import os
import threading
import time

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import LockTimeout
from ansible_collections.novalite.compute.plugins.module_utils.common.files import exclusive_lock, read_text, write_atomic


def test_write_replaces_content_and_sets_mode(tmp_path):
    path = str(tmp_path / "sub" / "hosts")
    write_atomic(path, "one\n")
    write_atomic(path, "two\n", mode=0o600)
    assert read_text(path) == "two\n"
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_failed_write_leaves_old_file_and_no_temp(tmp_path):
    path = str(tmp_path / "hosts")
    write_atomic(path, "old\n")
    with pytest.raises(TypeError):
        write_atomic(path, object())
    assert read_text(path) == "old\n"
    assert os.listdir(str(tmp_path)) == ["hosts"]


def test_read_text_default_for_missing(tmp_path):
    assert read_text(str(tmp_path / "nope"), default="") == ""


def test_second_holder_times_out_while_first_holds(tmp_path):
    path = str(tmp_path / "locks" / "a.lock")
    with exclusive_lock(path):
        with pytest.raises(LockTimeout, match="a.lock"):
            with exclusive_lock(path, timeout=0.2):
                pass


def test_lock_is_released_after_block(tmp_path):
    path = str(tmp_path / "b.lock")
    with exclusive_lock(path):
        pass
    with exclusive_lock(path, timeout=0.2):
        pass


def test_threads_are_serialised(tmp_path):
    path = str(tmp_path / "c.lock")
    inside = []
    overlaps = []

    def worker():
        with exclusive_lock(path, timeout=10):
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(1)
            time.sleep(0.02)
            inside.pop()

    threads = [threading.Thread(target=worker) for _thread in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []
