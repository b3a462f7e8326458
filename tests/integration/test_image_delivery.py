"""Images that live on the controller reach compute hosts that do not see the controller's files.

The image role runs as users run it: ``ansible-playbook`` over SSH (a sandbox with ``ssh=True``)
against compute1, inside whose mount namespace the controller's image directory
(/var/tmp/novalite-images) is covered by a directory of decoys: files of the same names and other
bytes, watched for any open. The catalog and the images are read on the controller and sent over
the connection; the host checks and caches them like a download. Module calls are counted from
Ansible's ``-vvv`` output ("Using module file ...").
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from image_helpers import IN_OPEN, OpenWatch, host_tree
from sandbox import IMAGE_DIR, Sandbox
from sandbox_ansible import BIN, HERE, REPO_ROOT, TIMEOUT, ansible_env

NOVALITE = "/var/lib/novalite"
IMAGE_NAME = "novalite-test-image"
IMAGE_FILES = ("vmlinuz", "initrd.img", "disk.qcow2", "catalog.yml")
MODULE_CALL = re.compile(r"Using module file \S+/plugins/modules/image_cache\.py")
PLAYBOOK = """
- name: The image step, as the build role runs it
  hosts: "{{ target }}"
  gather_facts: false
  roles:
    - role: novalite.compute.image
      image_instances: "{{ step_instances }}"
"""


@pytest.fixture(scope="module")
def box(guest_image):
    if os.geteuid() != 0:
        pytest.skip("the sandbox needs root")
    sandbox = Sandbox("dl%d" % os.getpid(), host_count=1, ssh=True)
    sandbox.up(build_image=False)
    try:
        yield sandbox
    finally:
        sandbox.down()


@pytest.fixture(scope="module")
def blind(box):
    """compute1 with decoys over the controller's image directory, and an open watch on each."""
    host = box.host("compute1")
    decoys = host.state_dir / "decoy-images"
    decoys.mkdir()
    for name in IMAGE_FILES:
        (decoys / name).write_bytes(b"decoy: the host's own file, never the controller's\n")
    host.run(["mount", "--bind", decoys, IMAGE_DIR])
    watches = {}
    try:
        # what a host-side read of one of the catalog's file:// locations would get
        assert host.run(["cat", str(IMAGE_DIR / "disk.qcow2")]).stdout.startswith("decoy:")
        watches.update((name, OpenWatch(decoys / name)) for name in IMAGE_FILES)
        yield {"host": host, "watches": watches}
    finally:
        for watch in watches.values():
            watch.close()
        host.run(["umount", IMAGE_DIR])
        shutil.rmtree(decoys)


@pytest.fixture
def instances_path(blind):
    """An instances_path of the test's own on compute1, removed afterwards."""
    path = NOVALITE + "/delivery"
    try:
        yield path
    finally:
        blind["host"].run(["rm", "-rf", path], check=False)


class StepRun:
    """One ``ansible-playbook`` of the image role over SSH: the image_cache result, its module calls."""

    def __init__(self, box, extra_vars, check=False):
        with tempfile.TemporaryDirectory(prefix="nl-image-step-") as workdir:
            playbook, results = Path(workdir) / "step.yml", Path(workdir) / "results.json"
            playbook.write_text(PLAYBOOK)
            command = [str(BIN / "ansible-playbook"), "-vvv", "-i", str(box.ssh_inventory_path), str(playbook),
                       "-e", json.dumps(extra_vars)] + (["--check"] if check else [])
            env = ansible_env(box, NOVALITE_TEST_RESULTS=str(results), ANSIBLE_STDOUT_CALLBACK="module_results",
                              ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback_plugins"),
                              ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
            run = subprocess.run(command, check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
            self.output = run.stdout + run.stderr
            assert results.exists(), "no result (rc=%d):\n%s" % (run.returncode, self.output[-5000:])
            self.result = json.loads(results.read_text())["compute1"]
        self.module_calls = len(MODULE_CALL.findall(self.output))


def image_step(box, instances_path, catalog, names=("instance-00000001",), check=False, **extra):
    """The image role on compute1 for instance records of the test image, as the build role passes them."""
    disk = next(r for r in builder_records() if r["name"] == IMAGE_NAME)
    instances = [{"name": name, "image_ref": disk["id"], "kernel_id": disk["properties"]["kernel_id"],
                  "ramdisk_id": disk["properties"]["ramdisk_id"], "flavor": {"root_gb": 0}} for name in names]
    extra_vars = dict({"target": "compute1", "step_instances": instances, "image_catalog": str(catalog),
                       "image_instances_path": instances_path}, **extra)
    return StepRun(box, extra_vars, check=check)


def builder_records():
    """The records the sandbox builder wrote: ids, sizes and sums derived from this machine's build."""
    return yaml.safe_load((IMAGE_DIR / "catalog.yml").read_text())["images"]


def md5_on_host(host, path):
    return host.run(["md5sum", path]).stdout.split()[0]


def raw_md5(qcow2, workdir):
    """The md5 of a qcow2 image's raw form: what its base file must hold."""
    raw = workdir / "raw"
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(qcow2), str(raw)], check=True)
    digest = hashlib.md5(raw.read_bytes()).hexdigest()
    raw.unlink()
    return digest


def delivered_leftovers(host):
    """Copies of delivered images anywhere in the host's Ansible temporary directories."""
    found = host.run(["find", "/root/.ansible/tmp", "-name", "novalite-image-*"], check=False)
    return found.stdout.split()


def assert_cached_as_the_controller_has_them(host, result, instances_path, tmp_path):
    made = result["instances"]["instance-00000001"]
    records = {r["id"]: r for r in builder_records()}
    assert made["created"] == ["console.log", "disk", "kernel", "ramdisk"]
    assert made["base_files"] == {"disk": "%s/_base/%s" % (instances_path, hashlib.sha1(made["image_id"].encode())
                                                           .hexdigest()),
                                  "kernel": "%s/_base/%s" % (instances_path, made["kernel_id"]),
                                  "ramdisk": "%s/_base/%s" % (instances_path, made["ramdisk_id"])}
    for key in ("kernel", "ramdisk"):  # raw images: the base is the controller's file, byte for byte
        assert md5_on_host(host, made["base_files"][key]) == records[made[key + "_id"]]["checksum"]
        assert md5_on_host(host, made[key]) == records[made[key + "_id"]]["checksum"]
    assert md5_on_host(host, made["base_files"]["disk"]) == raw_md5(IMAGE_DIR / "disk.qcow2", tmp_path)
    backing = json.loads(host.run(["qemu-img", "info", "-U", "--output=json", made["disk"]]).stdout)
    assert (backing["format"], backing["backing-filename"]) == ("qcow2", made["base_files"]["disk"])


# --- both catalog forms, cold and warm ----------------------------------------------------------

def test_mapping_form_cold_host_gets_the_images_warm_host_one_call_and_nothing_sent(
        box, blind, instances_path, tmp_path):
    host = blind["host"]
    catalog = IMAGE_DIR / "catalog.yml"  # the builder's own: {images: [...]}, file:// locations beside it
    assert isinstance(yaml.safe_load(catalog.read_text()), dict)
    checked = image_step(box, instances_path, catalog, check=True)
    assert checked.result["changed"] and not checked.result["failed"], checked.result
    assert checked.module_calls == 1 and checked.result["delivered"] == []
    assert sorted(checked.result["delivery_needed"]) == sorted(r["id"] for r in builder_records())
    assert host_tree(host, instances_path) == []

    cold = image_step(box, instances_path, catalog)
    assert cold.result["changed"] and not cold.result["failed"], cold.result
    assert cold.module_calls == 2
    assert sorted(cold.result["delivered"]) == sorted(r["id"] for r in builder_records())
    assert sorted(b["action"] for b in cold.result["base_files"]) == ["fetched"] * 3
    assert_cached_as_the_controller_has_them(host, cold.result, instances_path, tmp_path)
    assert delivered_leftovers(host) == []
    tree = host_tree(host, instances_path)

    warm = image_step(box, instances_path, catalog)
    assert warm.result["changed"] is False and not warm.result["failed"], warm.result
    assert warm.module_calls == 1 and warm.result["delivered"] == []
    assert host_tree(host, instances_path) == tree

    another = image_step(box, instances_path, catalog, names=("instance-00000002",))
    assert another.result["changed"] and another.module_calls == 1 and another.result["delivered"] == []
    assert sorted(b["action"] for b in another.result["base_files"]) == ["present"] * 3
    assert [m for watch in blind["watches"].values() for m in watch.events() if m & IN_OPEN] == []


def test_list_form_with_the_images_in_novalite_image_dirs(box, blind, instances_path, tmp_path):
    host = blind["host"]
    catalog = tmp_path / "catalogs" / "catalog.yml"  # the README's form, away from the images it names
    catalog.parent.mkdir()
    catalog.write_text(yaml.safe_dump(builder_records()))
    refused = image_step(box, instances_path, catalog)
    assert refused.result["failed"] and refused.module_calls == 0
    assert "local image files are read only from inside %s" % catalog.parent in refused.result["msg"]

    cold = image_step(box, instances_path, catalog, novalite_image_dirs=[str(IMAGE_DIR)])
    assert cold.result["changed"] and not cold.result["failed"], cold.result
    assert cold.module_calls == 2 and len(cold.result["delivered"]) == 3
    assert_cached_as_the_controller_has_them(host, cold.result, instances_path, tmp_path)
    warm = image_step(box, instances_path, catalog, novalite_image_dirs=[str(IMAGE_DIR)])
    assert not warm.result["changed"] and warm.module_calls == 1 and warm.result["delivered"] == []
    assert [m for watch in blind["watches"].values() for m in watch.events() if m & IN_OPEN] == []


def test_an_unknown_catalog_shape_fails_naming_the_file_and_the_forms(box, blind, instances_path, tmp_path):
    catalog = tmp_path / "catalog.yml"
    catalog.write_text(yaml.safe_dump({"glance": builder_records()}))
    step = image_step(box, instances_path, catalog)
    assert step.result["failed"] and step.module_calls == 0
    assert step.result["msg"] == (
        "catalog %s is not a catalog (it holds a mapping with the keys glance); expected a list of image records, "
        "or a mapping with the one key 'images' holding that list (YAML or JSON)" % catalog)
    assert host_tree(blind["host"], instances_path) == []


# --- what is refused ----------------------------------------------------------------------------

@pytest.fixture
def controller_images(tmp_path):
    """A copy of the test images in a controller directory of the test's own, with a list catalog."""
    store = tmp_path / "store"
    store.mkdir()
    records = builder_records()
    for record in records:
        name = os.path.basename(record["location"])
        shutil.copyfile(IMAGE_DIR / name, store / name)
        record["location"] = "file://%s/%s" % (store, name)
    return store, records


def test_a_corrupted_transfer_is_refused_and_cleaned_up(box, blind, instances_path, controller_images):
    host = blind["host"]
    store, records = controller_images
    disk = store / "disk.qcow2"
    data = bytearray(disk.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes: what the host gets is not what the catalog says
    disk.write_bytes(bytes(data))
    catalog = store / "catalog.yml"
    catalog.write_text(yaml.safe_dump(records))
    disk_record = next(r for r in records if r["disk_format"] == "qcow2")
    step = image_step(box, instances_path, catalog)
    assert step.result["failed"] and step.module_calls == 2, step.result
    assert "checksum mismatch for image %s (%s) from %s (as delivered from the controller): expected md5 %s, got %s" % (
        disk_record["id"], IMAGE_NAME, disk_record["location"], disk_record["checksum"],
        hashlib.md5(bytes(data)).hexdigest()) in step.result["msg"]
    assert step.result["failed_step"].startswith("fetch image %s" % disk_record["id"])
    left = [line.split()[0] for line in host_tree(host, instances_path)]
    sha1 = hashlib.sha1(disk_record["id"].encode()).hexdigest()
    assert "_base/" + sha1 not in left
    assert not [p for p in left if p.endswith((".part", ".converted")) or p.startswith("instance-")], left
    assert delivered_leftovers(host) == []


def test_a_location_outside_the_image_dirs_is_refused_before_anything_is_sent(
        box, blind, instances_path, controller_images, tmp_path):
    host = blind["host"]
    store, records = controller_images
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(str(store / "vmlinuz"), elsewhere / "vmlinuz")
    kernel = next(r for r in records if r["disk_format"] == "aki")
    for location in ("file://%s/vmlinuz" % elsewhere, "file://%s/../elsewhere/vmlinuz" % store):
        kernel["location"] = location
        catalog = store / "catalog.yml"
        catalog.write_text(yaml.safe_dump(records))
        step = image_step(box, instances_path, catalog)
        assert step.result["failed"] and step.module_calls == 0, step.result
        assert "kernel_id %s (novalite-test-kernel) location %r resolves to %s/vmlinuz: local image files are " \
               "read only from inside %s" % (kernel["id"], location, elsewhere, store) in step.result["msg"]
        assert host_tree(host, instances_path) == [] and delivered_leftovers(host) == []
