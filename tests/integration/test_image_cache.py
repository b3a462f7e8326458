"""image_cache on real sandbox hosts: qemu-img, libvirtd and TCG guests, an image server in a
host's namespace, a tmpfs in a host's mount namespace; no mocks.

compute1 prepares three instances from the test image (two at the image's size, one resized
to 1 GiB) and boots two of them; compute2 takes the faults, each test in an instances_path of
its own that it removes afterwards, and gets images from a catalog on the controller that it
cannot see.
"""

import hashlib
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from guests import domain_xml, libvirt_connection, remove_guest, wait_for_console
from image_helpers import IN_OPEN, ImageServer, OpenWatch, host_tree
from sandbox import IMAGE_DIR
from sandbox_ansible import ModuleRun, run_module

GIB = 1024 ** 3
IMAGE_SIZE = 32 * 1024 * 1024  # the test image's virtual size (sandbox/guest_image)
IMAGE_NAME = "novalite-test-image"
NOVALITE = "/var/lib/novalite"
INSTANCES_PATH = NOVALITE + "/instances"
PREPARED = {"instance-0000000a": 0, "instance-0000000b": 0, "instance-0000000c": 1}
FAULTS_PATH = NOVALITE + "/faults"
CANARY = b"host secret\n"  # the canary file's content (reading the file would show up in its watch)


def md5(data):
    return hashlib.md5(data).hexdigest()


def disk_record(image_id, location, data, disk_format="qcow2"):
    """A catalog record (inventory style) for a disk image without kernel or ramdisk."""
    return {"id": image_id, "name": "disk-" + image_id[:8], "status": "active", "disk_format": disk_format,
            "container_format": "bare", "size": len(data), "checksum": md5(data), "location": location}


def faults_args(images, store=None, name="instance-00000100", **extra):
    """image_cache's arguments for one instance of ``images[0]``; local files only from ``store``."""
    args = {"instances_path": FAULTS_PATH, "images": images,
            "instances": [{"name": name, "image_id": images[0]["id"], "kernel_id": "", "ramdisk_id": ""}],
            "image_dirs": [str(store)] if store else []}
    args.update(extra)
    return args


def backing_chain(host, disk):
    info = host.run(["qemu-img", "info", "-U", "--backing-chain", "--output=json", disk])
    return json.loads(info.stdout)


# --- compute1: the community.docker sequence, the shared base, booted guests -----------------

@pytest.fixture(scope="module")
def prepared(sandbox, guest_image):
    host = sandbox.host("compute1")
    args = {"catalog": str(guest_image["catalog.yml"]),
            "instances": [{"name": name, "image_id": IMAGE_NAME, "root_gb": gb} for name, gb in PREPARED.items()]}
    runs = {"tree_before": host_tree(host, NOVALITE)}
    try:
        runs["check"] = run_module(sandbox, "compute1", "image_cache", args, check=True, diff=True)
        runs["tree_after_check"] = host_tree(host, NOVALITE)
        runs["real"] = run_module(sandbox, "compute1", "image_cache", args, diff=True)
        runs["tree_after_real"] = host_tree(host, NOVALITE)
        runs["check_again"] = run_module(sandbox, "compute1", "image_cache", args, check=True, diff=True)
        runs["real_again"] = run_module(sandbox, "compute1", "image_cache", args, diff=True)
        runs["tree_after_again"] = host_tree(host, NOVALITE)
        yield runs
    finally:
        host.run(["rm", "-rf", INSTANCES_PATH], check=False)


def test_check_mode_reports_the_work_and_changes_nothing(prepared):
    check = prepared["check"]
    assert check["changed"] and not check.get("failed"), check
    assert prepared["tree_after_check"] == prepared["tree_before"]
    assert sorted((b["role"], b["action"]) for b in check["base_files"]) == [
        ("disk", "fetched"), ("kernel", "fetched"), ("ramdisk", "fetched"), ("resized", "resized")]
    assert check["diff"]["after"]["instances"]["instance-0000000c"] == ["console.log", "disk", "kernel", "ramdisk"]
    assert check["diff"]["before"]["instances"]["instance-0000000c"] == []


def test_real_run_makes_bases_and_instance_files_as_nova_names_them(sandbox, prepared, guest_image):
    real = prepared["real"]
    assert real["changed"] and not real.get("failed"), real
    check_without_changed = {k: v for k, v in prepared["check"].items() if k != "changed"}
    assert {k: v for k, v in real.items() if k != "changed"} == check_without_changed
    made = real["instances"]["instance-0000000a"]
    sha1 = hashlib.sha1(made["image_id"].encode()).hexdigest()
    assert made["base_files"] == {"disk": "%s/_base/%s" % (INSTANCES_PATH, sha1),
                                  "kernel": "%s/_base/%s" % (INSTANCES_PATH, made["kernel_id"]),
                                  "ramdisk": "%s/_base/%s" % (INSTANCES_PATH, made["ramdisk_id"])}
    assert real["instances"]["instance-0000000c"]["base_files"]["disk"].endswith("/_base/%s_1" % sha1)
    host = sandbox.host("compute1")
    listing = host.run(["ls", INSTANCES_PATH + "/_base", made["instance_dir"]]).stdout.split()
    assert sorted(listing) == sorted(["%s/_base:" % INSTANCES_PATH, sha1, sha1 + "_1", made["kernel_id"],
                                      made["ramdisk_id"], made["instance_dir"] + ":", "console.log", "disk",
                                      "kernel", "ramdisk"])
    assert host.run(["cmp", made["kernel"], str(guest_image["vmlinuz"])]).returncode == 0
    assert host.run(["cmp", made["ramdisk"], str(guest_image["initrd.img"])]).returncode == 0


def test_second_check_and_second_run_change_nothing(prepared):
    for name in ("check_again", "real_again"):
        again = prepared[name]
        assert again["changed"] is False and not again.get("failed"), again
        assert again["base_files"] == []
        assert all(i["created"] == [] for i in again["instances"].values())
    assert prepared["tree_after_again"] == prepared["tree_after_real"]


def test_overlays_share_the_base_file(sandbox, prepared):
    host, made = sandbox.host("compute1"), prepared["real"]["instances"]
    chains = {name: backing_chain(host, made[name]["disk"]) for name in PREPARED}
    base = made["instance-0000000a"]["base_files"]["disk"]
    for name in ("instance-0000000a", "instance-0000000b"):
        overlay, backing = chains[name]
        assert (overlay["format"], overlay["backing-filename"]) == ("qcow2", base)
        assert (backing["filename"], backing["format"], backing["virtual-size"]) == (base, "raw", IMAGE_SIZE)
    overlay, backing = chains["instance-0000000c"]
    assert backing["filename"] == made["instance-0000000c"]["base_files"]["disk"] != base
    assert overlay["virtual-size"] == backing["virtual-size"] == GIB


@pytest.fixture
def booted(sandbox, prepared):
    host = sandbox.host("compute1")
    conn = libvirt_connection(host)
    names = ["instance-0000000a", "instance-0000000c"]
    try:
        for name in names:
            conn.defineXML(domain_xml(name, prepared["real"]["instances"][name])).create()
        yield {name: host.instance_dir(name) / "console.log" for name in names}
    finally:
        for name in names:
            remove_guest(conn, name)
        conn.close()


def test_guests_boot_from_the_overlays_and_see_their_disk(booted):
    wait_for_console(booted["instance-0000000a"], r"disk novalite-test-disk size=%d\r?\n" % IMAGE_SIZE, timeout=300)
    wait_for_console(booted["instance-0000000c"], r"disk novalite-test-disk size=%d\r?\n" % GIB, timeout=300)


# --- the age-off ------------------------------------------------------------------------------

def test_age_off_keeps_used_and_young_bases_and_removes_old_unused_ones(sandbox, guest_image):
    host, path = sandbox.host("compute2"), NOVALITE + "/ageoff"
    facts = sandbox.host("compute2").state_dir / "ageoff.fact"  # the host's instance records, as the flow keeps them
    prepare = {"instances_path": path, "catalog": str(guest_image["catalog.yml"]),
               "instances": [{"name": "instance-00000010", "image_id": IMAGE_NAME},
                             {"name": "instance-00000011", "image_id": IMAGE_NAME, "root_gb": 1}]}
    delete = {"instances_path": path, "state": "absent", "cache_cleanup": True, "facts_path": str(facts)}
    try:
        made = run_module(sandbox, "compute2", "image_cache", prepare)["instances"]["instance-00000010"]
        facts.write_text(json.dumps({"schema_version": 1, "instances": {"u10": {
            "name": "instance-00000010", "image_ref": made["image_id"], "kernel_id": made["kernel_id"],
            "ramdisk_id": made["ramdisk_id"]}}}))
        used = run_module(sandbox, "compute2", "image_cache", dict(
            delete, instances=[{"name": "instance-00000011"}], original_minimum_age=0, resized_minimum_age=0))
        assert used["changed"] and used["removed_instances"] == [path + "/instance-00000011"]
        assert used["cache_report"]["removed"] == []
        assert [e["reason"] for e in used["cache_report"]["kept"]] == ["in use by instance-00000010"] * 4
        facts.write_text(json.dumps({"schema_version": 1, "instances": {}}))
        gone = dict(delete, instances=[{"name": "instance-00000010"}])
        young = run_module(sandbox, "compute2", "image_cache", gone)
        assert young["changed"] and young["cache_report"]["removed"] == []
        reasons = sorted(e["reason"].split(", ")[1] for e in young["cache_report"]["kept"])
        assert reasons == ["younger than 3600 s"] + ["younger than 86400 s"] * 3
        aged = dict(gone, resized_minimum_age=0, original_minimum_age=0)
        before = host_tree(host, path)
        checked = run_module(sandbox, "compute2", "image_cache", aged, check=True, diff=True)
        assert checked["changed"] and len(checked["cache_report"]["removed"]) == 4
        assert checked["diff"]["after"]["base_files"] == [] and len(checked["diff"]["before"]["base_files"]) == 4
        assert host_tree(host, path) == before
        removed = run_module(sandbox, "compute2", "image_cache", aged)
        names = [[e["name"] for e in r["cache_report"]["removed"]] for r in (checked, removed)]
        assert removed["changed"] and names[0] == names[1]
        assert host.run(["ls", "-A", path + "/_base"]).stdout == ""
        assert run_module(sandbox, "compute2", "image_cache", aged)["changed"] is False
    finally:
        host.run(["rm", "-rf", path], check=False)
        facts.unlink(missing_ok=True)


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    ({"instances": [{"name": "instance-00000020", "image_id": "6172f6e7-0000-0000-0000-000000000000"}]},
     "image '6172f6e7-0000-0000-0000-000000000000' is not in"),
    ({"instances": [{"name": "../etc", "image_id": IMAGE_NAME}]}, "instances[0].name '../etc': expected 1 to 64"),
    ({"instances": [{"name": "instance-00000020", "image_id": IMAGE_NAME, "root_gb": -1}]},
     "instances[0].root_gb -1: expected a whole number of at least 0"),
    ({"instances": [{"name": "instance-00000020", "image_id": IMAGE_NAME}], "images": []},
     "parameters are mutually exclusive: catalog|images"),
    ({"state": "gone"}, "value of state must be one of: present, absent, got: gone"),
    ({"instances": [{"name": "instance-00000020", "image_id": IMAGE_NAME}], "catalog": "/nonexistent.yml"},
     "catalog /nonexistent.yml cannot be read"),
])
def test_bad_input_fails_naming_it_and_changes_nothing(sandbox, guest_image, args, message):
    host = sandbox.host("compute2")
    full = dict({"catalog": str(guest_image["catalog.yml"]), "instances_path": FAULTS_PATH}, **args)
    before = host_tree(host, NOVALITE)
    result = run_module(sandbox, "compute2", "image_cache", full)
    assert result.get("failed") and message in result["msg"], result
    assert host_tree(host, NOVALITE) == before


# --- faults on compute2 -----------------------------------------------------------------------

@pytest.fixture
def store(sandbox, guest_image):
    """A world-readable directory both the test and compute2 see, holding the test disk image."""
    host = sandbox.host("compute2")
    path = host.state_dir / "image-store"
    path.mkdir(mode=0o755)
    shutil.copyfile(guest_image["disk.qcow2"], path / "disk.qcow2")
    try:
        yield path
    finally:
        shutil.rmtree(path)
        host.run(["rm", "-rf", FAULTS_PATH], check=False)


def no_base_left(host):
    listing = host_tree(host, FAULTS_PATH + "/_base")
    return [line for line in listing if not line.startswith(" ")]  # " d ..." is the directory itself


def test_interrupted_download_leaves_no_base_and_no_part(sandbox, store):
    host, data = sandbox.host("compute2"), (store / "disk.qcow2").read_bytes()
    server = ImageServer(host, store, mode="truncate")
    try:
        image = disk_record("9a000000-0000-4000-8000-000000000001", server.url("disk.qcow2"), data)
        result = run_module(sandbox, "compute2", "image_cache", faults_args([image], use_proxy=False))
        assert len(server.fetches("disk.qcow2")) == 1
    finally:
        server.stop()
    assert result.get("failed") and "truncated download" in result["msg"], result
    assert "got %d bytes, the source announced %d" % (len(data) // 2, len(data)) in result["msg"]
    assert no_base_left(host) == []
    assert host_tree(host, FAULTS_PATH + "/instance-00000100") == []


def test_checksum_mismatch_names_expected_and_actual_sums(sandbox, store):
    host, data = sandbox.host("compute2"), (store / "disk.qcow2").read_bytes()
    image = dict(disk_record("9a000000-0000-4000-8000-000000000002", str(store / "disk.qcow2"), data),
                 checksum="0" * 32)
    result = run_module(sandbox, "compute2", "image_cache", faults_args([image], store))
    assert result.get("failed") and "expected md5 %s, got %s" % ("0" * 32, md5(data)) in result["msg"], result
    assert (result["expected"], result["actual"]) == ("0" * 32, md5(data))
    assert no_base_left(host) == []


def test_unreachable_url_names_the_url_and_the_reason(sandbox, store):
    host, data = sandbox.host("compute2"), (store / "disk.qcow2").read_bytes()
    url = "http://127.0.0.1:9/disk.qcow2"  # discard port, nothing listens in the namespace
    image = disk_record("9a000000-0000-4000-8000-000000000003", url, data)
    result = run_module(sandbox, "compute2", "image_cache", faults_args([image], use_proxy=False))
    assert result.get("failed") and "cannot fetch %s: Connection refused" % url in result["msg"], result
    assert no_base_left(host) == []


@pytest.fixture
def small_disk(sandbox):
    """A tmpfs mounted inside compute2's mount namespace only; unmounted afterwards."""
    host = sandbox.host("compute2")
    mountpoint = NOVALITE + "/small"
    host.run(["mkdir", "-p", mountpoint])
    mounted = []

    def mount(size):
        host.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", mountpoint])
        mounted.append(mountpoint)
        return mountpoint + "/instances"
    try:
        yield mount
    finally:
        for mounted_at in mounted:
            host.run(["umount", mounted_at])
        host.run(["rmdir", mountpoint])


KERNEL_LAST = "ffffffff-0000-4000-8000-000000000001"  # base names sort before it, so it is fetched last
RAMDISK = "1a000000-0000-4000-8000-000000000001"


def fetched_last_kernel_catalog(guest_image):
    """The test catalog's records (the ids derive from the build) with ids that fix the fetch order."""
    records = yaml.safe_load(guest_image["catalog.yml"].read_text())["images"]
    new_ids = {r["id"]: {"aki": KERNEL_LAST, "ari": RAMDISK}.get(r["disk_format"], r["id"]) for r in records}
    for record in records:
        record["id"] = new_ids[record["id"]]
        record["properties"] = {key: new_ids[value] for key, value in (record.get("properties") or {}).items()}
    return records


def test_full_disk_while_downloading_fails_cleanly(sandbox, guest_image, small_disk):
    host = sandbox.host("compute2")
    path = small_disk("4m")  # ramdisk and disk fit (bases are sparse); the 14 MB kernel does not
    records = fetched_last_kernel_catalog(guest_image)
    disk_base = hashlib.sha1(next(r["id"] for r in records if r["disk_format"] == "qcow2").encode()).hexdigest()
    assert sorted([disk_base, RAMDISK, KERNEL_LAST])[-1] == KERNEL_LAST  # bases are fetched in name order
    result = run_module(sandbox, "compute2", "image_cache", {
        "instances_path": path, "images": records, "image_dirs": [str(guest_image["catalog.yml"].parent)],
        "instances": [{"name": "instance-00000101", "image_id": IMAGE_NAME}]})
    assert result["failed"] and "%s/_base/%s.part: No space left on device" % (path, KERNEL_LAST) in result["msg"]
    assert result["failed_step"].startswith("fetch image %s" % KERNEL_LAST), result
    left = [line.split()[0] for line in host_tree(host, path)]
    assert not [name for name in left if name.startswith("instance-") or name.endswith((".part", ".converted"))]
    assert "_base/" + KERNEL_LAST not in left
    # what was fetched whole and verified before the disk filled up stays cached, as in Nova
    assert "_base/" + RAMDISK in left and "_base/" + disk_base in left


def test_full_disk_while_converting_fails_cleanly(sandbox, store, small_disk):
    host, data = sandbox.host("compute2"), (store / "disk.qcow2").read_bytes()
    path = small_disk("%dk" % (len(data) // 1024 + 64))  # the .part fits, the raw copy beside it does not
    image = disk_record("9a000000-0000-4000-8000-000000000004", str(store / "disk.qcow2"), data)
    result = run_module(sandbox, "compute2", "image_cache", faults_args([image], store, instances_path=path))
    assert result.get("failed") and "No space left on device" in result["msg"], result
    assert "qemu-img convert" in result["msg"], result
    left = host_tree(host, path)
    assert not [line for line in left if line.startswith("_base/") or line.startswith("instance-")], left


def test_two_runs_at_once_download_the_image_once(sandbox, store):
    host, data = sandbox.host("compute2"), (store / "disk.qcow2").read_bytes()
    delay = 8.0
    server = ImageServer(host, store, mode="slow", delay=delay)
    image = disk_record("9a000000-0000-4000-8000-000000000005", server.url("disk.qcow2"), data)
    try:
        runs = [ModuleRun(sandbox, "compute2", "image_cache", faults_args([image], name=name, use_proxy=False))
                for name in ("instance-00000102", "instance-00000103")]
        results = [run.result() for run in runs]
        fetches = server.fetches("disk.qcow2")
    finally:
        server.stop()
    assert [r["failed"] for r in results] == [False, False], results
    assert len(fetches) == 1, fetches
    fetched_at = float(fetches[0].split()[0])
    # Both runs were under way while the one download was (so the second had to wait for it).
    assert all(run.started < fetched_at < run.finished - delay for run in runs)
    actions = sorted(r["base_files"][0]["action"] for r in results)
    assert actions == ["fetched", "present"]
    bases = {r["instances"][name]["base_files"]["disk"] for r, name in zip(results, ("instance-00000102",
                                                                                     "instance-00000103"))}
    assert len(bases) == 1


# --- the crafted backing-file image ------------------------------------------------------------

@pytest.fixture
def canary(sandbox):
    """A file only a crafted image points at, watched for any open."""
    path = sandbox.host("compute2").state_dir / "canary-secret"
    path.write_bytes(CANARY)
    watch = OpenWatch(path)
    try:
        yield path, watch
    finally:
        watch.close()
        path.unlink()


def craft_qcow2(store, backing):
    crafted = store / "crafted.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(backing), "-u",
                    str(crafted), "64M"], check=True)
    return crafted


@pytest.mark.parametrize("target", ["/etc/shadow", "canary"])
def test_crafted_backing_file_image_is_refused_without_opening_it(sandbox, store, canary, target):
    host = sandbox.host("compute2")
    canary_path, watch = canary
    backing = canary_path if target == "canary" else Path(target)
    crafted = craft_qcow2(store, backing)
    data = crafted.read_bytes()
    for disk_format in ("qcow2", "raw"):  # declared honestly, or passed off as raw
        image = disk_record("9a000000-0000-4000-8000-00000000000%d" % (6 if disk_format == "qcow2" else 7),
                            str(crafted), data, disk_format)
        result = run_module(sandbox, "compute2", "image_cache", faults_args([image], store))
        assert result.get("failed") and "names a backing file (%s)" % backing in result["msg"], result
        assert no_base_left(host) == []
    assert [m for m in watch.events() if m & IN_OPEN] == []


def test_plain_qemu_img_info_does_not_open_the_backing_file_but_the_chain_does(sandbox, store, canary):
    """The fact the module's inspection rests on, checked on this QEMU (the watch can fail)."""
    host = sandbox.host("compute2")
    canary_path, watch = canary
    crafted = craft_qcow2(store, canary_path)
    info = json.loads(host.run(["qemu-img", "info", "--output=json", str(crafted)]).stdout)
    assert info["backing-filename"] == str(canary_path)
    time.sleep(0.2)
    assert [m for m in watch.events() if m & IN_OPEN] == []
    host.run(["qemu-img", "info", "--backing-chain", "--output=json", str(crafted)])
    time.sleep(0.2)
    assert [m for m in watch.events() if m & IN_OPEN] != []


def test_format_other_than_declared_is_refused(sandbox, store):
    host = sandbox.host("compute2")
    raw = store / "plain.img"
    raw.write_bytes(b"\0" * 65536)
    image = disk_record("9a000000-0000-4000-8000-000000000008", str(raw), raw.read_bytes(), "qcow2")
    result = run_module(sandbox, "compute2", "image_cache", faults_args([image], store))
    assert result.get("failed") and "its header says raw but the catalog declares disk_format qcow2" in result["msg"]
    assert no_base_left(host) == []


# --- image locations confined to image_dirs and allowed_schemes --------------------------------
# A record whose location is a host file outside the image directory used to be copied into
# _base and booted as a guest's disk. The canary is a raw "image" whose record is correct in
# every other way (size, checksum): only the location rule stands between it and a guest.

def canary_record(location, image_id="9a000000-0000-4000-8000-000000000010"):
    return disk_record(image_id, location, CANARY, "raw")


@pytest.mark.parametrize("location", [
    "{canary}",                                   # a bare path outside the image directory
    "file://{canary}",                            # the same as a file:// URL
    "file://{store}/../canary-secret",            # a '..' escape from inside it
    "{store}/sub/../../canary-secret",
    "{store}/link-to-canary",                     # a symlink inside it pointing out
])
def test_local_files_outside_the_image_dirs_are_refused_and_never_opened(sandbox, store, canary, location):
    host = sandbox.host("compute2")
    canary_path, watch = canary
    (store / "sub").mkdir()
    (store / "link-to-canary").symlink_to(canary_path)
    where = location.format(canary=canary_path, store=store)
    before = host_tree(host, NOVALITE)
    result = run_module(sandbox, "compute2", "image_cache", faults_args([canary_record(where)], store))
    assert result.get("failed") and "location %r resolves to %s: local image files are read only from inside %s" % (
        where, canary_path, store) in result["msg"], result
    assert host_tree(host, NOVALITE) == before
    assert [m for m in watch.events() if m & IN_OPEN] == []


@pytest.mark.parametrize("location", ["ftp://127.0.0.1/disk.qcow2", "data:application/octet-stream;base64,AAAA",
                                      "gopher://127.0.0.1/disk.qcow2", "file://otherhost/etc/shadow"])
def test_locations_of_other_schemes_are_refused(sandbox, store, location):
    host = sandbox.host("compute2")
    before = host_tree(host, NOVALITE)
    image = disk_record("9a000000-0000-4000-8000-000000000011", location, b"x")
    result = run_module(sandbox, "compute2", "image_cache", faults_args([image], store))
    assert result.get("failed") and "location %r: expected an absolute path or a file://, http:// or https:// URL" % (
        location) in result["msg"], result
    assert host_tree(host, NOVALITE) == before


def test_a_scheme_outside_allowed_schemes_is_refused_before_any_fetch(sandbox, store):
    host, data = sandbox.host("compute2"), (store / "disk.qcow2").read_bytes()
    server = ImageServer(host, store)
    try:
        image = disk_record("9a000000-0000-4000-8000-000000000012", server.url("disk.qcow2"), data)
        before = host_tree(host, NOVALITE)
        result = run_module(sandbox, "compute2", "image_cache",
                            faults_args([image], use_proxy=False, allowed_schemes=["https"]))
        assert server.fetches("disk.qcow2") == []
    finally:
        server.stop()
    assert result.get("failed") and "http:// is not an allowed scheme here (allowed: https)" in result["msg"], result
    assert host_tree(host, NOVALITE) == before


def test_locations_inside_the_image_dirs_and_allowed_urls_still_work(sandbox, store):
    host, data = sandbox.host("compute2"), (store / "disk.qcow2").read_bytes()
    (store / "sub").mkdir()
    (store / "current.qcow2").symlink_to(store / "disk.qcow2")  # a symlink that stays inside is fine
    server = ImageServer(host, store)
    locations = {"instance-00000110": "file://%s/sub/../disk.qcow2" % store,
                 "instance-00000111": str(store / "current.qcow2"),
                 "instance-00000112": server.url("disk.qcow2")}
    try:
        for index, (name, location) in enumerate(sorted(locations.items())):
            image = disk_record("9a000000-0000-4000-8000-00000000002%d" % index, location, data)
            args = faults_args([image], store, name=name, use_proxy=False)
            result = run_module(sandbox, "compute2", "image_cache", args)
            assert result["changed"] and not result.get("failed"), result
            assert result["instances"][name]["created"] == ["console.log", "disk"]
        assert len(server.fetches("disk.qcow2")) == 1
    finally:
        server.stop()


# --- controller_catalog: images sent by the controller ------------------------------------------
# tests/integration/test_image_delivery.py runs the image role over SSH; here the module runs
# through the sandbox's local connection, whose file transfers land in the machine's namespace
# and reach the host only through the task's temporary directory.

@pytest.fixture
def blind_compute2(sandbox):
    """compute2 with an empty directory over the controller's image directory, in its namespace only."""
    host = sandbox.host("compute2")
    empty = host.state_dir / "no-images"
    empty.mkdir()
    host.run(["mount", "--bind", empty, IMAGE_DIR])
    try:
        yield host
    finally:
        host.run(["umount", IMAGE_DIR])
        empty.rmdir()
        host.run(["rm", "-rf", FAULTS_PATH], check=False)


def test_controller_catalog_reaches_a_host_that_does_not_see_it(sandbox, guest_image, blind_compute2):
    host = blind_compute2
    assert host.run(["ls", "-A", IMAGE_DIR]).stdout == ""
    args = {"instances_path": FAULTS_PATH, "controller_catalog": str(guest_image["catalog.yml"]),
            "instances": [{"name": "instance-00000120", "image_id": IMAGE_NAME}]}
    cold = run_module(sandbox, "compute2", "image_cache", args)
    assert cold["changed"] and not cold["failed"], cold
    records = yaml.safe_load(guest_image["catalog.yml"].read_text())["images"]
    assert sorted(cold["delivered"]) == sorted(r["id"] for r in records) and cold["delivery_needed"] == []
    made = cold["instances"]["instance-00000120"]
    assert made["created"] == ["console.log", "disk", "kernel", "ramdisk"]
    assert host.run(["cmp", made["kernel"], "-"], input=guest_image["vmlinuz"].read_bytes(), text=False).returncode == 0
    warm = run_module(sandbox, "compute2", "image_cache", args)
    assert warm["changed"] is False and warm["delivered"] == [], warm
    assert not host.run(["find", "/root/.ansible/tmp", "-name", "novalite-image-*"], check=False).stdout
