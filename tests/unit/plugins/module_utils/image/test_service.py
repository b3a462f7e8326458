import os
import threading

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import CommandFailed, InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.image import base_cache
from ansible_collections.novalite.compute.plugins.module_utils.image.format_sniff import qcow2_backing_file
from ansible_collections.novalite.compute.plugins.module_utils.image.naming import root_base_name
from ansible_collections.novalite.compute.plugins.module_utils.image.request import RunRequest
from ansible_collections.novalite.compute.plugins.module_utils.image.service import find_tools, run

from .conftest import IMAGE_ID, KERNEL_ID, RAMDISK_ID, RAW_IMAGE_ID, TOOLS, FakeHost

SHA1 = root_base_name(IMAGE_ID)
ALL_FILES = ["console.log", "disk", "kernel", "ramdisk"]


def params(tmp_path, images, instances, **overrides):
    values = dict(instances_path=str(tmp_path / "instances"), catalog=None, images=images, instances=instances,
                  state="present", cache_cleanup=False, original_minimum_age=86400, resized_minimum_age=3600,
                  facts_path=str(tmp_path / "novalite.fact"), lock_timeout=30.0, download_timeout=10.0,
                  use_proxy=False)
    values.update(overrides)
    return values


def instance(name, image_id=IMAGE_ID, **fields):
    return dict({"name": name, "image_id": image_id, "kernel_id": None, "ramdisk_id": None, "root_gb": 0}, **fields)


def call(values, host, check_mode=False):
    return run(RunRequest(values), host, TOOLS, check_mode=check_mode)


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
    monkeypatch.setattr(base_cache, "GIB", 1024)
    values = params(tmp_path, images, [instance("instance-00000002", IMAGE_ID, root_gb=4)])
    with pytest.raises(InvalidInput, match="virtual size of 8192 bytes, larger than root_gb 4"):
        call(values, host)
    left = tree(values["instances_path"])
    assert "_base/" + SHA1 in left and not [path for path in left if path.startswith("instance-")]


@pytest.mark.parametrize("entry, message", [
    (instance("instance-00000001", "no-such-image"), "image 'no-such-image' is not in images"),
    (instance("instance-00000001", KERNEL_ID), "image_id b6aa0ae4-.* has disk_format aki; expected raw or qcow2 or ami"),
    (instance("instance-00000001", kernel_id=RAMDISK_ID), "kernel_id .* has disk_format ari; expected aki"),
    (instance("instance-00000001", root_gb=-1), "root_gb -1 must be >= 0"),
    (instance("../../etc"), "instance name '../../etc' is not usable"),
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
    with pytest.raises(InvalidInput, match="instance-00000001 is listed twice"):
        call(params(tmp_path, images, [instance("instance-00000001")] * 2), host)
    with pytest.raises(InvalidInput, match="needs the image catalog"):
        call(params(tmp_path, None, [instance("instance-00000001")]), host)
    with pytest.raises(InvalidInput, match="lock_timeout 0 must be > 0"):
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
