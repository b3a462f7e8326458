import errno
import json
import os
import shutil
import threading

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import (
    CommandFailed, InvalidInput, NovaliteError)
from ansible_collections.novalite.compute.plugins.module_utils.image import cache as cache_module
from ansible_collections.novalite.compute.plugins.module_utils.image.cache import delivered_file_name, root_base_name
from ansible_collections.novalite.compute.plugins.module_utils.image.fetch import qcow2_backing_file
from ansible_collections.novalite.compute.plugins.module_utils.image.service import (
    ImageCacheRequest, find_tools, run)
from ansible_collections.novalite.compute.plugins.modules import image_cache
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import run_main

from .conftest import IMAGE_ID, KERNEL_ID, RAMDISK_ID, RAW_IMAGE_ID, TOOLS, FakeHost

SHA1 = root_base_name(IMAGE_ID)
ALL_FILES = ["console.log", "disk", "kernel", "ramdisk"]


def params(tmp_path, images, instances, **overrides):
    values = dict(instances_path=str(tmp_path / "instances"), catalog=None, images=images, instances=instances,
                  state="present", cache_cleanup=False, original_minimum_age=86400, resized_minimum_age=3600,
                  facts_path=str(tmp_path / "novalite.fact"), lock_timeout=30.0, download_timeout=10.0,
                  use_proxy=False, image_dirs=[str(tmp_path / "store")], allowed_schemes=["http", "https"])
    values.update(overrides)
    return values


def instance(name, image_id=IMAGE_ID, **fields):
    return dict({"name": name, "image_id": image_id, "kernel_id": None, "ramdisk_id": None, "root_gb": 0}, **fields)


def call(values, host, check_mode=False):
    return run(ImageCacheRequest(values), host, TOOLS, check_mode=check_mode)


def tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _dirs, files in os.walk(root) for f in files)


def test_check_run_idempotent_check_idempotent_run(tmp_path, images, host):
    values = params(tmp_path, images, [instance("instance-0000000a"), instance("instance-0000000b")])
    checked = call(values, host, check_mode=True)
    assert checked["changed"] and not os.path.exists(values["instances_path"]) and host.calls == []
    assert checked["instances"]["instance-0000000a"]["created"] == ALL_FILES
    assert [(b["role"], b["action"]) for b in checked["base_files"]] == [
        ("ramdisk", "fetched"), ("disk", "fetched"), ("kernel", "fetched")]
    applied = call(values, host)
    assert applied["changed"]
    assert {k: v for k, v in applied.items() if k != "changed"} == {k: v for k, v in checked.items() if k != "changed"}
    assert len(host.commands("info")) == 3  # one fetch per image however many instances
    disk = applied["instances"]["instance-0000000b"]["disk"]
    assert qcow2_backing_file(disk) == applied["instances"]["instance-0000000b"]["base_files"]["disk"]
    assert applied["diff"]["after"]["base_files"] == sorted([SHA1, KERNEL_ID, RAMDISK_ID])
    calls = len(host.calls)
    for check_mode in (True, False):
        again = call(values, host, check_mode=check_mode)
        assert not again["changed"] and again["base_files"] == []
        assert again["diff"]["before"] == again["diff"]["after"]
        assert again["instances"]["instance-0000000a"]["created"] == []
    assert len(host.calls) == calls


def test_root_gb_backs_the_disk_with_a_resized_base(tmp_path, images, host):
    values = params(tmp_path, images, [instance("instance-00000001", root_gb=1), instance("instance-00000002")])
    result = call(values, host)
    resized = result["instances"]["instance-00000001"]["base_files"]["disk"]
    assert resized.endswith("/_base/%s_1" % SHA1) and os.path.getsize(resized) == 1024 ** 3
    assert qcow2_backing_file(result["instances"]["instance-00000001"]["disk"]) == resized
    assert result["instances"]["instance-00000002"]["base_files"]["disk"].endswith("/_base/" + SHA1)
    assert ("resized", "resized") in [(b["role"], b["action"]) for b in result["base_files"]]
    assert host.commands("resize")[0][-2:] == [resized + ".resizing", str(1024 ** 3)]


def test_image_larger_than_root_gb_is_refused_before_anything_is_written(tmp_path, images, host, monkeypatch):
    images[3]["size"] = 3 * 1024 ** 3  # raw: the catalog size is the virtual size
    values = params(tmp_path, images, [instance("instance-00000001", RAW_IMAGE_ID, root_gb=2)])
    with pytest.raises(InvalidInput, match="virtual size of 3221225472 bytes, larger than root_gb 2"):
        call(values, host)
    assert not os.path.exists(values["instances_path"])
    # qcow2: the virtual size is known once fetched, still before any instance file
    monkeypatch.setattr(cache_module, "GIB", 1024)
    values = params(tmp_path, images, [instance("instance-00000002", IMAGE_ID, root_gb=4)])
    with pytest.raises(InvalidInput, match="virtual size of 8192 bytes, larger than root_gb 4"):
        call(values, host)
    left = tree(values["instances_path"])
    assert "_base/" + SHA1 in left and not [path for path in left if path.startswith("instance-")]


@pytest.mark.parametrize("entry, message", [
    (instance("instance-00000001", "no-such-image"), "image 'no-such-image' is not in images"),
    (instance("instance-00000001", KERNEL_ID), "image_id b6aa0ae4-.* has disk_format aki; expected raw or qcow2 or ami"),
    (instance("instance-00000001", kernel_id=RAMDISK_ID), "kernel_id .* has disk_format ari; expected aki"),
    (instance("instance-00000001", root_gb=-1), "instances\\[1\\].root_gb -1: expected a whole number of at least 0"),
    (instance("../../etc"), "instances\\[1\\].name '../../etc': expected 1 to 64 letters"),
    (instance("instance-00000001", None), "image_id is required"),
])
def test_bad_input_fails_before_anything_is_written(tmp_path, images, host, entry, message):
    values = params(tmp_path, images, [instance("instance-00000009"), entry])
    with pytest.raises(InvalidInput, match=message):
        call(values, host)
    assert not os.path.exists(values["instances_path"]) and host.calls == []


def test_inactive_image_duplicate_names_and_missing_catalog_are_refused(tmp_path, images, host):
    images[2]["status"] = "queued"
    with pytest.raises(InvalidInput, match="has status queued"):
        call(params(tmp_path, images, [instance("instance-00000001")]), host)
    with pytest.raises(InvalidInput, match="instance name instance-00000001 appears twice"):
        call(params(tmp_path, images, [instance("instance-00000001")] * 2), host)
    with pytest.raises(InvalidInput, match="needs the image catalog"):
        call(params(tmp_path, None, [instance("instance-00000001")]), host)
    with pytest.raises(InvalidInput, match="lock_timeout 0: expected a number of seconds above 0"):
        call(params(tmp_path, images, [], lock_timeout=0), host)


def test_empty_kernel_id_means_no_kernel(tmp_path, images, host):
    result = call(params(tmp_path, images, [instance("instance-00000001", kernel_id="", ramdisk_id="")]), host)
    made = result["instances"]["instance-00000001"]
    assert made["kernel"] is None and made["created"] == ["console.log", "disk"]


def test_existing_instance_files_are_never_overwritten(tmp_path, images, host):
    values = params(tmp_path, images, [instance("instance-00000001")])
    directory = tmp_path / "instances" / "instance-00000001"
    directory.mkdir(parents=True)
    (directory / "disk").write_bytes(b"mine")
    result = call(values, host)
    assert (directory / "disk").read_bytes() == b"mine"
    assert result["instances"]["instance-00000001"]["created"] == ["console.log", "kernel", "ramdisk"]
    assert not host.commands("create")
    assert oct(os.stat(directory / "console.log").st_mode & 0o777) == "0o660"


def test_failure_removes_the_instance_files_this_run_made_and_keeps_verified_bases(tmp_path, images, host):
    values = params(tmp_path, images, [instance("instance-00000001", RAW_IMAGE_ID), instance("instance-00000002")])
    host.fail["create"] = (1, "qemu-img: disk: Could not create")
    with pytest.raises(CommandFailed, match="Could not create"):
        call(values, host)
    left = tree(values["instances_path"])
    assert not [path for path in left if path.startswith("instance-")]
    assert not [path for path in left if path.endswith((".part", ".converted", ".tmp"))]
    assert "_base/" + SHA1 in left


def test_absent_removes_directories_and_ages_off_what_they_used(tmp_path, images, host):
    values = params(tmp_path, images, [instance("instance-00000001"), instance("instance-00000002", RAW_IMAGE_ID)])
    call(values, host)
    gone = params(tmp_path, images, [{"name": "instance-00000001"}], state="absent", cache_cleanup=True,
                  original_minimum_age=0, resized_minimum_age=0)
    checked = call(gone, host, check_mode=True)
    assert checked["changed"] and checked["removed_instances"] == [str(tmp_path / "instances" / "instance-00000001")]
    assert sorted(e["name"] for e in checked["cache_report"]["removed"]) == sorted([SHA1, KERNEL_ID, RAMDISK_ID])
    assert os.path.exists(checked["removed_instances"][0])
    result = call(gone, host)
    assert result["changed"] and not os.path.exists(result["removed_instances"][0])
    assert tree(str(tmp_path / "instances" / "_base")) == [root_base_name(RAW_IMAGE_ID)]
    assert "in use by instance-00000002" in [e["reason"] for e in result["cache_report"]["kept"]]
    assert sorted(result["diff"]["before"]["instances"]["instance-00000001"]) == ALL_FILES
    again = call(gone, host)
    assert not again["changed"] and again["removed_instances"] == []


def test_facts_records_keep_their_bases(tmp_path, images, host):
    call(params(tmp_path, images, [instance("instance-00000001")]), host)
    (tmp_path / "novalite.fact").write_text(
        '{"schema_version": 1, "instances": {"u1": {"name": "instance-00000007", "image_ref": "%s",'
        ' "kernel_id": "%s", "ramdisk_id": null}}}' % (IMAGE_ID, KERNEL_ID))
    values = params(tmp_path, images, [{"name": "instance-00000001"}], state="absent", cache_cleanup=True,
                    original_minimum_age=0)
    result = call(values, host)
    assert [e["name"] for e in result["cache_report"]["removed"]] == [RAMDISK_ID]


def test_two_runs_at_once_fetch_each_image_once(tmp_path, images):
    hosts = [FakeHost(), FakeHost()]
    start = threading.Barrier(2)
    results, errors = [], []

    def prepare(host, name):
        try:
            start.wait()
            results.append(call(params(tmp_path, images, [instance(name)]), host))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
    threads = [threading.Thread(target=prepare, args=(h, "instance-0000000%d" % i)) for i, h in enumerate(hosts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 2
    assert sum(len(h.commands("info")) for h in hosts) == 3
    assert all(r["changed"] for r in results)


def test_find_tools_names_missing_packages():
    with pytest.raises(Exception, match="qemu-img \\(package qemu-utils\\)"):
        find_tools(lambda name, required=False: None if name == "qemu-img" else "/usr/bin/" + name)


# --- image locations confined to image_dirs and allowed_schemes --------------------------------

@pytest.fixture
def outside(tmp_path):
    """A host file outside the image directory, and a symlink to it inside."""
    secret = tmp_path / "secret"
    secret.write_bytes(b"R" * 4096)
    (tmp_path / "store" / "escape.img").symlink_to(secret)
    return secret


USED_BY = "instance instance-00000002: image_id %s (rawdisk) location " % RAW_IMAGE_ID
IN_CATALOG = "images[3] (%s) location " % RAW_IMAGE_ID  # no scheme novalite reads: refused with the catalog


@pytest.mark.parametrize("location, refused_as, rule", [
    ("file://{tmp}/secret", USED_BY, "resolves to {tmp}/secret: local image files are read only from inside {tmp}/store"),
    ("/etc/passwd", USED_BY, "resolves to /etc/passwd: local image files are read only from inside"),
    ("file://{tmp}/store/../secret", USED_BY, "resolves to {tmp}/secret"),
    ("{tmp}/store/escape.img", USED_BY, "resolves to {tmp}/secret"),
    ("ftp://images.example/raw.img", IN_CATALOG, "expected an absolute path or a file://, http:// or https:// URL"),
    ("data:application/octet-stream;base64,UlJS", IN_CATALOG, "expected an absolute path or a file://"),
    ("gopher://images.example/raw.img", IN_CATALOG, "expected an absolute path or a file://"),
])
def test_locations_outside_what_the_host_allows_are_refused_before_anything_changes(
        tmp_path, images, host, outside, location, refused_as, rule):
    images[3]["location"] = location.format(tmp=tmp_path)
    values = params(tmp_path, images, [instance("instance-00000001"), instance("instance-00000002", RAW_IMAGE_ID)])
    with pytest.raises(InvalidInput) as caught:
        call(values, host)
    assert caught.value.msg.startswith(refused_as + repr(images[3]["location"])), caught.value.msg
    assert rule.format(tmp=tmp_path) in caught.value.msg
    assert not os.path.exists(values["instances_path"]) and host.calls == []


def test_a_scheme_left_out_of_allowed_schemes_is_refused(tmp_path, images, host):
    images[3]["location"] = "http://images.example/raw.img"
    values = params(tmp_path, images, [instance("instance-00000001", RAW_IMAGE_ID)], allowed_schemes=["https"])
    with pytest.raises(InvalidInput, match="location 'http://images.example/raw.img': http:// is not an allowed "
                                           "scheme here \\(allowed: https\\)"):
        call(values, host)
    with pytest.raises(InvalidInput, match="allowed_schemes\\[0\\] 'ftp': expected one of http, https"):
        call(dict(values, allowed_schemes=["ftp"]), host)
    assert not os.path.exists(values["instances_path"]) and host.calls == []


def test_without_image_dirs_records_may_name_no_local_file(tmp_path, images, host):
    values = params(tmp_path, images, [instance("instance-00000001")], image_dirs=None)
    with pytest.raises(InvalidInput, match="local image files are refused: no image directory is configured"):
        call(values, host)
    assert not os.path.exists(values["instances_path"])


def test_a_catalog_file_allows_its_own_directory_by_default(tmp_path, images, host):
    catalog = tmp_path / "store" / "catalog.json"
    catalog.write_text(json.dumps(images))
    values = params(tmp_path, None, [instance("instance-00000001")], catalog=str(catalog), image_dirs=None)
    assert call(values, host)["instances"]["instance-00000001"]["created"] == ALL_FILES
    elsewhere = tmp_path / "catalogs" / "catalog.json"
    elsewhere.parent.mkdir()
    elsewhere.write_text(json.dumps(images))
    values = params(tmp_path, None, [instance("instance-00000002")], catalog=str(elsewhere), image_dirs=None)
    with pytest.raises(InvalidInput, match="read only from inside %s/catalogs" % tmp_path):
        call(values, host)


# --- a failure while making instance files: undone, and named ----------------------------------

def test_disk_full_while_copying_the_ramdisk_undoes_this_runs_files(tmp_path, images, host, monkeypatch):
    values = params(tmp_path, images, [instance("instance-00000001"), instance("instance-00000002")])
    copy = cache_module.shutil.copyfile
    copies = []

    def copy_until_full(source, target):
        copies.append(target)
        if len(copies) == 4:  # instance-00000002's ramdisk, after its disk and kernel
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), target)
        return copy(source, target)
    monkeypatch.setattr(cache_module.shutil, "copyfile", copy_until_full)
    with pytest.raises(NovaliteError) as caught:
        call(values, host)
    error = caught.value
    assert error.details["failed_step"] == "copy the ramdisk of instance-00000002"
    assert error.msg.startswith("copy the ramdisk of instance-00000002: No space left on device: ")
    instances = tmp_path / "instances"
    assert error.details["rolled_back"][:3] == [
        "remove %s/instance-00000002/kernel" % instances, "remove %s/instance-00000002/disk" % instances,
        "remove directory %s/instance-00000002" % instances]
    assert "remove directory %s/instance-00000001" % instances in error.details["rolled_back"]
    assert error.details["rollback_failures"] == []
    left = tree(str(instances))
    assert not [path for path in left if path.startswith("instance-")]
    assert "_base/" + SHA1 in left  # verified bases stay
    assert not [path for path in left if path.endswith(".tmp")]


@pytest.fixture
def second_dir_refused(monkeypatch):
    """os.mkdir of the image cache refuses instance-00000002's directory (EACCES)."""
    mkdir = os.mkdir

    def refuse_the_second(path, mode=0o777):
        if path.endswith("instance-00000002"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return mkdir(path, mode)
    monkeypatch.setattr(cache_module.os, "mkdir", refuse_the_second)


def test_permission_error_on_an_instance_dir_undoes_the_earlier_instances(tmp_path, images, host,
                                                                          second_dir_refused):
    values = params(tmp_path, images, [instance("instance-00000001"), instance("instance-00000002")])
    with pytest.raises(NovaliteError) as caught:
        call(values, host)
    error = caught.value
    directory = str(tmp_path / "instances" / "instance-00000002")
    assert error.details["failed_step"] == "make the instance directory " + directory
    assert error.msg == "make the instance directory %s: Permission denied: %s" % (directory, directory)
    assert len(error.details["rolled_back"]) == 5  # instance-00000001's four files and its directory
    assert not [path for path in tree(values["instances_path"]) if path.startswith("instance-")]
    assert not os.path.exists(tmp_path / "instances" / "instance-00000001")


def test_files_another_step_wrote_keep_the_directory(tmp_path, images, host):
    """The undo removes only what this run made: a directory someone else wrote into stays."""
    values = params(tmp_path, images, [instance("instance-00000001")])
    directory = tmp_path / "instances" / "instance-00000001"

    def write_into_the_directory(args, **kwargs):
        (directory / "libvirt.xml").write_text("<domain/>")  # as the domain step would, meanwhile
        return 1, "", "qemu-img: disk: Could not create"
    host._create = write_into_the_directory
    with pytest.raises(CommandFailed) as caught:
        call(values, host)
    assert caught.value.details["failed_step"] == "make the disk of instance-00000001"
    assert sorted(os.listdir(directory)) == ["libvirt.xml"]


@pytest.mark.skipif(not shutil.which("qemu-img") or not shutil.which("prlimit"), reason="needs qemu-img and prlimit")
def test_the_module_fails_with_the_step_and_the_undo_never_a_traceback(tmp_path, images, second_dir_refused, capsys):
    """image_cache's main() end to end (real qemu-img on a raw image): an OSError mid-apply is a fail_json."""
    raw = [instance(name, RAW_IMAGE_ID, kernel_id="", ramdisk_id="") for name in ("instance-00000001",
                                                                                  "instance-00000002")]
    args = {key: value for key, value in params(tmp_path, images, raw).items() if value is not None}
    result = run_main(image_cache, args, capsys)
    directory = str(tmp_path / "instances" / "instance-00000002")
    assert result["failed"] and result["msg"] == "make the instance directory %s: Permission denied: %s" % (
        directory, directory)
    assert result["failed_step"] == "make the instance directory " + directory
    assert result["rolled_back"] == ["remove %s/instance-00000001/%s" % (tmp_path / "instances", name)
                                     for name in ("console.log", "disk")] + [
        "remove directory %s/instance-00000001" % (tmp_path / "instances")]
    sha1 = root_base_name(RAW_IMAGE_ID)
    assert tree(str(tmp_path / "instances")) == ["_base/" + sha1, "locks/nova-" + sha1]


# --- images the controller delivers (delivered_images) -----------------------------------------
# The records' locations are the controller's: the host never opens them, and reads an image only
# from <staging dir>/novalite-image-<id>, where the action plugin put the controller's copy.

@pytest.fixture
def delivery(tmp_path, images):
    """The catalog as the controller hands it (locations in a directory the host does not have),
    a staging directory, and the controller's files to copy into it."""
    controller = tmp_path / "store"
    moved = tmp_path / "controller-only"
    controller.rename(moved)  # what the records name does not exist for the "host"
    staging = tmp_path / "ansible-tmp"
    staging.mkdir()
    files = {KERNEL_ID: moved / "vmlinuz", RAMDISK_ID: moved / "initrd", IMAGE_ID: moved / "disk.qcow2"}

    def deliver(*image_ids):
        for image_id in image_ids:
            shutil.copyfile(files[image_id], staging / delivered_file_name(image_id))
    return {"staging": staging, "deliver": deliver, "ids": sorted(files)}


def delivered_params(tmp_path, images, names=("instance-00000001",), **overrides):
    return params(tmp_path, images, [instance(name) for name in names], image_dirs=None,
                  delivered_images=[KERNEL_ID, RAMDISK_ID, IMAGE_ID], **overrides)


def delivered_call(values, host, staging, check_mode=False):
    return run(ImageCacheRequest(values, staging_dir=str(staging)), host, TOOLS, check_mode=check_mode)


def test_a_cold_host_asks_for_the_delivered_images_and_touches_nothing(tmp_path, images, host, delivery):
    values = delivered_params(tmp_path, images)
    for check_mode in (True, False):
        result = delivered_call(values, host, delivery["staging"], check_mode=check_mode)
        assert result["delivery_needed"] == delivery["ids"]
        assert result["changed"] is check_mode  # check mode: would change; a real run waits for the copies
    assert not os.path.exists(values["instances_path"]) and host.calls == []
    # without a temporary directory for the task (the action plugin made none) nothing can arrive
    waiting = run(ImageCacheRequest(values), host, TOOLS)
    assert waiting["delivery_needed"] == delivery["ids"] and not os.path.exists(values["instances_path"])


def test_delivered_copies_are_cached_like_downloads_and_removed(tmp_path, images, host, delivery):
    values = delivered_params(tmp_path, images)
    delivery["deliver"](KERNEL_ID, RAMDISK_ID)
    assert delivered_call(values, host, delivery["staging"])["delivery_needed"] == [IMAGE_ID]  # one still missing
    delivery["deliver"](IMAGE_ID)
    result = delivered_call(values, host, delivery["staging"])
    assert result["changed"] and result["delivery_needed"] == []
    assert result["instances"]["instance-00000001"]["created"] == ALL_FILES
    assert [(b["role"], b["action"]) for b in result["base_files"]] == [
        ("ramdisk", "fetched"), ("disk", "fetched"), ("kernel", "fetched")]
    assert len(host.commands("info")) == 3  # inspected as any download is
    assert list(delivery["staging"].iterdir()) == []  # the copies are gone once cached
    warm = delivered_call(delivered_params(tmp_path, images, names=("instance-00000002",)), host, delivery["staging"])
    assert warm["changed"] and warm["delivery_needed"] == [] and warm["base_files"][0]["action"] == "present"


def test_a_corrupted_copy_is_refused_and_removed(tmp_path, images, host, delivery):
    values = delivered_params(tmp_path, images)
    delivery["deliver"](KERNEL_ID, RAMDISK_ID, IMAGE_ID)
    copy = delivery["staging"] / delivered_file_name(IMAGE_ID)
    data = bytearray(copy.read_bytes())
    data[-1] ^= 0xFF  # same size, other bytes: only the checksum tells
    copy.write_bytes(bytes(data))
    with pytest.raises(NovaliteError) as caught:
        delivered_call(values, host, delivery["staging"])
    disk = next(r for r in images if r["id"] == IMAGE_ID)
    assert "checksum mismatch for image %s (disk) from %s (as delivered from the controller): expected md5 %s" % (
        IMAGE_ID, disk["location"], disk["checksum"]) in caught.value.msg
    assert caught.value.details["failed_step"].startswith("fetch image %s" % IMAGE_ID)
    assert list(delivery["staging"].iterdir()) == []
    left = tree(values["instances_path"])
    assert "_base/" + SHA1 not in left and not [p for p in left if p.endswith((".part", ".converted"))]
    assert not [p for p in left if p.startswith("instance-")]


def test_a_delivered_copy_that_is_a_symlink_is_not_followed(tmp_path, images, host, delivery):
    values = delivered_params(tmp_path, images)
    delivery["deliver"](KERNEL_ID, RAMDISK_ID)
    (delivery["staging"] / delivered_file_name(IMAGE_ID)).symlink_to(tmp_path / "controller-only" / "disk.qcow2")
    with pytest.raises(NovaliteError, match="cannot read image location .* \\(as delivered from the controller\\)"):
        delivered_call(values, host, delivery["staging"])
    assert "_base/" + SHA1 not in tree(values["instances_path"])


def test_delivered_ids_must_be_uuids(tmp_path, images, host):
    with pytest.raises(InvalidInput, match="delivered_images\\[0\\] '../../etc/shadow': expected a UUID"):
        ImageCacheRequest(params(tmp_path, images, [instance("instance-00000001")],
                                 delivered_images=["../../etc/shadow"]))


def test_controller_catalog_without_the_action_plugin_is_refused(tmp_path, images):
    with pytest.raises(InvalidInput, match="controller_catalog is read on the controller by the image_cache action"):
        ImageCacheRequest(params(tmp_path, None, [instance("instance-00000001")], controller_catalog="/srv/c.yml"))
