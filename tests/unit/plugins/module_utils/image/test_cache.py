"""The _base cache: Nova's names and locks, the base a disk is backed by, the images in use and
the age-off."""

import hashlib
import os
from types import SimpleNamespace

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.image.cache import (
    GIB, AgeOffPolicy, BaseUsers, CacheLayout, age_off_report, classify_base_name, disk_base_name, lock_name,
    resized_base_name, root_base_name)

from .conftest import IMAGE_ID, KERNEL_ID, RAMDISK_ID, RAW_IMAGE_ID, qcow2_bytes

SHA1 = hashlib.sha1(IMAGE_ID.encode()).hexdigest()
RAW_SHA1 = root_base_name(RAW_IMAGE_ID)
DISK_IMAGE = SimpleNamespace(id=IMAGE_ID, disk_format="qcow2")
NOW = 1_000_000_000.0
DAY = 86400


# --- names ------------------------------------------------------------------------------------

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


@pytest.mark.parametrize("name", ["../etc", "_base", "locks", "a/b", "", ".hidden", "x" * 65, None])
def test_instance_names_that_escape_or_collide_are_refused(name):
    # validate.instance_name, the collection's one rule: at most 64 characters (was 255 here)
    with pytest.raises(InvalidInput, match="^instance name .*(: expected 1 to 64 letters|is not usable as an instance "
                       "directory)"):
        CacheLayout("/srv/instances").instance_dir(name)


def test_layout_paths_and_relative_root():
    layout = CacheLayout("/srv/instances/")
    assert layout.base_path(SHA1) == "/srv/instances/_base/" + SHA1
    assert layout.lock_path(SHA1) == "/srv/instances/locks/nova-" + SHA1
    assert layout.instance_dir("instance-0000000a") == "/srv/instances/instance-0000000a"
    with pytest.raises(InvalidInput, match="instances_path 'relative': expected an absolute path"):
        CacheLayout("relative")


def test_instance_names_lists_directories_only(tmp_path):
    for directory in ("_base", "locks", "instance-00000001", "instance-00000002"):
        (tmp_path / directory).mkdir()
    (tmp_path / "stray-file").write_text("")
    assert CacheLayout(str(tmp_path)).instance_names() == ["instance-00000001", "instance-00000002"]


# --- the base a disk is backed by ----------------------------------------------------------------

@pytest.mark.parametrize("virtual_size, root_gb, expected", [
    (GIB, 0, root_base_name(IMAGE_ID)),
    (None, 0, root_base_name(IMAGE_ID)),
    (2 * GIB, 2, root_base_name(IMAGE_ID)),
    (GIB, 2, root_base_name(IMAGE_ID) + "_2"),
    (None, 2, root_base_name(IMAGE_ID) + "_2"),  # size not known before the fetch
])
def test_disk_base_name_is_the_original_unless_a_larger_disk_is_wanted(virtual_size, root_gb, expected):
    assert disk_base_name(DISK_IMAGE, virtual_size, root_gb) == expected


# --- images in use and the age-off -------------------------------------------------------------

def make_base(layout, name, age):
    os.makedirs(layout.base_dir, exist_ok=True)
    path = layout.base_path(name)
    with open(path, "wb") as handle:
        handle.write(b"x")
    os.utime(path, (NOW - age, NOW - age))
    return path


def decisions(layout, users, policy=None):
    found = (policy or AgeOffPolicy()).decide(layout, users, NOW)
    return {d.name: (d.remove, d.reason) for d in found}


def test_unused_files_go_once_older_than_their_minimum_age(tmp_path):
    layout = CacheLayout(str(tmp_path))
    make_base(layout, SHA1, DAY + 5)
    make_base(layout, RAW_SHA1, DAY - 5)
    make_base(layout, SHA1 + "_20", 3605)
    make_base(layout, RAW_SHA1 + "_20", 3595)
    found = decisions(layout, BaseUsers())
    assert found[SHA1] == (True, "unused for 86405 s (minimum age 86400 s)")
    assert found[RAW_SHA1] == (False, "unused for 86395 s, younger than 86400 s")
    assert found[SHA1 + "_20"][0] is True
    assert found[RAW_SHA1 + "_20"][0] is False


def test_files_in_use_by_records_or_backing_files_are_kept_however_old(tmp_path):
    layout = CacheLayout(str(tmp_path))
    for name in (SHA1, SHA1 + "_1", KERNEL_ID, RAMDISK_ID, RAW_SHA1 + "_5"):
        make_base(layout, name, 10 * DAY)
    users = BaseUsers()
    users.add("instance-00000001", IMAGE_ID, KERNEL_ID, None)
    (tmp_path / "instance-00000002").mkdir()
    (tmp_path / "instance-00000002" / "disk").write_bytes(qcow2_bytes(backing=layout.base_path(RAW_SHA1 + "_5")))
    (tmp_path / "instance-00000002" / "disk.config").write_bytes(b"CD001")
    users.scan_instance_dirs(layout)
    found = decisions(layout, users, AgeOffPolicy(0, 0))
    assert found[SHA1] == (False, "in use by instance-00000001")
    assert found[SHA1 + "_1"] == (False, "in use by instance-00000001")  # a resized copy of a used image
    assert found[KERNEL_ID] == (False, "in use by instance-00000001")
    assert found[RAW_SHA1 + "_5"] == (False, "in use by instance-00000002")
    assert found[RAMDISK_ID][0] is True


def test_skipped_instance_directories_do_not_keep_their_base(tmp_path):
    layout = CacheLayout(str(tmp_path))
    make_base(layout, SHA1, 2 * DAY)
    (tmp_path / "instance-00000003").mkdir()
    (tmp_path / "instance-00000003" / "disk").write_bytes(qcow2_bytes(backing=layout.base_path(SHA1)))
    users = BaseUsers()
    users.scan_instance_dirs(layout, skip={"instance-00000003"})
    assert decisions(layout, users)[SHA1][0] is True


def test_unknown_files_are_left_alone_and_old_leftovers_go(tmp_path):
    layout = CacheLayout(str(tmp_path))
    make_base(layout, "README", 100 * DAY)
    make_base(layout, SHA1 + ".part", 2 * 3600)
    os.mkdir(layout.base_path(RAW_SHA1))
    found = decisions(layout, BaseUsers())
    assert found["README"] == (False, "not a file the image cache makes; left alone")
    assert found[RAW_SHA1][0] is False
    assert found[SHA1 + ".part"][0] is True


def test_removal_is_rechecked_against_a_fresh_use(tmp_path):
    layout = CacheLayout(str(tmp_path))
    path = make_base(layout, SHA1, 2 * DAY)
    policy = AgeOffPolicy()
    decision = policy.decide(layout, BaseUsers(), NOW)[0]
    assert policy.still_removable(decision, NOW)
    os.utime(path, (NOW - 1, NOW - 1))  # another run used it meanwhile
    assert not policy.still_removable(decision, NOW)
    os.unlink(path)
    assert not policy.still_removable(decision, NOW)


def test_report_splits_kept_and_removed(tmp_path):
    layout = CacheLayout(str(tmp_path))
    make_base(layout, SHA1, 2 * DAY)
    make_base(layout, KERNEL_ID, 1)
    result = age_off_report(AgeOffPolicy().decide(layout, BaseUsers(), NOW))
    assert [e["name"] for e in result["removed"]] == [SHA1]
    assert result["kept"][0]["kind"] == "original" and result["kept"][0]["name"] == KERNEL_ID


def test_no_base_dir_means_nothing_to_decide(tmp_path):
    assert AgeOffPolicy().decide(CacheLayout(str(tmp_path)), BaseUsers(), NOW) == []
