import threading
import time

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import LockTimeout
from ansible_collections.novalite.compute.plugins.module_utils.common.file_lock import exclusive_lock


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
