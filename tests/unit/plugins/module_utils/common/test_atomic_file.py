import os

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.atomic_file import read_text, write_atomic


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
