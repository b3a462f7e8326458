"""image/instance_disk.py: a disk's chain from its header, and growing an overlay and its filesystem
(the filesystem through qemu-storage-daemon's FUSE export when the machine has it)."""

import os
import shutil
import subprocess

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.image.instance_disk import (
    DiskChain, DiskGrower, disk_chain, find_grow_tools)

BASE = "7a59e898ff7f55befd305e3ecf1ad853cb48115b"
pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")


def run_command(args, environ_update=None, **_kwargs):
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def get_bin_path(name, required=False, opt_dirs=None):
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", "")] + (opt_dirs or [])))


def overlay(tmp_path, base_name=BASE, ext=False):
    base = tmp_path / "_base" / base_name
    base.parent.mkdir(exist_ok=True)
    if ext:
        subprocess.run(["mkfs.ext4", "-q", "-F", str(base), "32M"], check=True, capture_output=True)
    else:
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(base), "32M"], check=True)
    disk = tmp_path / "disk"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(base), str(disk)], check=True)
    return disk


def test_the_chain_of_an_overlay_comes_from_its_header(tmp_path):
    chain = disk_chain(str(overlay(tmp_path)))
    assert (chain.format, chain.virtual_size, chain.base_name, chain.base_root_gb) == ("qcow2", 32 * 1024 ** 2, BASE, 0)
    raw = tmp_path / "raw"
    raw.write_bytes(b"\0" * 4096)
    assert disk_chain(str(raw)).as_dict()["format"] == "raw"


@pytest.mark.parametrize("name, root_gb", [(BASE, 0), (BASE + "_20", 20), ("elsewhere.img", None)])
def test_the_root_gb_of_the_base_a_disk_uses(name, root_gb):
    assert DiskChain("disk", "qcow2", 1, "/x/_base/" + name).base_root_gb == root_gb


def test_a_disk_grows_and_is_never_shrunk_and_says_why_its_filesystem_did_not(tmp_path):
    disk = str(overlay(tmp_path))
    grower = DiskGrower(run_command, find_grow_tools(get_bin_path), fuse_device=str(tmp_path / "no-fuse"))
    assert grower.grow(disk, 16 * 1024 ** 2) == "unchanged"
    assert grower.grow(disk, 1024 ** 3).startswith("not grown (")
    chain = disk_chain(disk)
    assert chain.virtual_size == 1024 ** 3 and chain.base_name == BASE


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/fuse") or not shutil.which("qemu-storage-daemon")
                    or not shutil.which("mkfs.ext4"), reason="needs root, /dev/fuse, qemu-storage-daemon, e2fsprogs")
def test_the_ext_filesystem_grows_inside_the_overlay_and_the_base_is_untouched(tmp_path):
    disk = str(overlay(tmp_path, ext=True))
    base = tmp_path / "_base" / BASE
    before = base.read_bytes()
    grower = DiskGrower(run_command, find_grow_tools(get_bin_path))
    assert grower.grow(disk, 1024 ** 3) == "grown"
    assert base.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["_base", "disk"]  # the export's mount point and pid file are gone
    flat = tmp_path / "flat"
    subprocess.run(["qemu-img", "convert", "-O", "raw", disk, str(flat)], check=True)
    blocks = subprocess.run(["dumpe2fs", "-h", str(flat)], capture_output=True, text=True, check=True).stdout
    assert "Block count:              1048576" in blocks  # 1 GiB of 1 KiB blocks
