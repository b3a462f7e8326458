import hashlib

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.image.naming import (
    CacheLayout, classify_base_name, lock_name, resized_base_name, root_base_name)

from .conftest import IMAGE_ID, KERNEL_ID

SHA1 = hashlib.sha1(IMAGE_ID.encode()).hexdigest()


def test_names_follow_nova():
    assert root_base_name(IMAGE_ID) == SHA1
    assert resized_base_name(IMAGE_ID, 20) == SHA1 + "_20"
    assert lock_name(SHA1) == "nova-" + SHA1


@pytest.mark.parametrize("name, expected", [
    (SHA1, ("original", SHA1)),
    (KERNEL_ID, ("original", KERNEL_ID)),
    (SHA1 + "_20", ("resized", SHA1)),
    (SHA1 + ".part", ("temporary", SHA1)),
    (SHA1 + "_20.resizing", ("temporary", SHA1)),
    (KERNEL_ID + ".converted", ("temporary", KERNEL_ID)),
    ("notes.txt", ("unknown", None)),
    ("notes.part", ("temporary", None)),
    (SHA1.upper(), ("unknown", None)),
])
def test_classify_base_names(name, expected):
    assert classify_base_name(name) == expected


@pytest.mark.parametrize("name", ["../etc", "_base", "locks", "a/b", "", ".hidden", "x" * 256, None])
def test_instance_names_that_escape_or_collide_are_refused(name):
    with pytest.raises(InvalidInput, match="not usable as a directory"):
        CacheLayout("/srv/instances").instance_dir(name)


def test_layout_paths_and_relative_root():
    layout = CacheLayout("/srv/instances/")
    assert layout.base_path(SHA1) == "/srv/instances/_base/" + SHA1
    assert layout.lock_path(SHA1) == "/srv/instances/locks/nova-" + SHA1
    assert layout.instance_dir("instance-0000000a") == "/srv/instances/instance-0000000a"
    with pytest.raises(InvalidInput, match="instances_path 'relative' must be an absolute path"):
        CacheLayout("relative")


def test_instance_names_lists_directories_only(tmp_path):
    for directory in ("_base", "locks", "instance-00000001", "instance-00000002"):
        (tmp_path / directory).mkdir()
    (tmp_path / "stray-file").write_text("")
    assert CacheLayout(str(tmp_path)).instance_names() == ["instance-00000001", "instance-00000002"]
