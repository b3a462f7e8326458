"""A fake compute host for the image module_utils: qemu-img, prlimit and cp as Python.

Fake qcow2 files carry a real qcow2 header (magic, version 3, backing file offset/size,
incompatible features) followed by the disk's bytes at ``PAYLOAD_OFFSET``, so the Python
header reader sees what it would see in a real file, and "conversion" is a slice.
"""

import hashlib
import json
import os
import shutil
import struct

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.image.fetch import sniff_file

PAYLOAD_OFFSET = 4096
TOOLS = {name: name for name in ("qemu-img", "prlimit", "cp", "e2label", "e2fsck", "resize2fs")}
KERNEL_ID = "b6aa0ae4-dadf-5217-b04f-58142460a755"
RAMDISK_ID = "72015c86-b186-5f29-8f70-ab23bf2b1a94"
IMAGE_ID = "6172f6e7-9eb4-54c3-9a3e-e53169eb01b9"
RAW_IMAGE_ID = "0a0b0c0d-0000-4000-8000-000000000001"


def qcow2_bytes(payload=b"", backing=None, data_file=False):
    name = backing.encode() if backing else b""
    header = b"QFI\xfb" + struct.pack(">IQI", 3, 104 if name else 0, len(name))
    header = header.ljust(72, b"\0") + struct.pack(">Q", 4 if data_file else 0)
    return (header.ljust(104, b"\0") + name).ljust(PAYLOAD_OFFSET, b"\0") + payload


class FakeHost:
    """``run_command`` of a host with qemu-img; records every argv."""

    def __init__(self):
        self.calls = []
        self.fail = {}  # subcommand -> (rc, stderr), e.g. {"convert": (1, "No space left on device")}

    def __call__(self, args, environ_update=None, **kwargs):
        self.calls.append(list(args))
        if args[0] == "prlimit":
            args = args[args.index("--") + 1:]
        if args[0] == "qemu-img" and args[1] in self.fail:
            rc, err = self.fail[args[1]]
            return rc, "", err
        handler = getattr(self, "_" + (args[1] if args[0] == "qemu-img" else args[0]).replace("-", "_"))
        return handler(args)

    def commands(self, name):
        return [c for c in self.calls if name in c]

    def _info(self, args):
        path = args[-1]
        sniffed = sniff_file(path)
        document = {"format": sniffed.format, "virtual-size": _payload_size(path, sniffed.format)}
        if sniffed.backing_file:
            document["backing-filename"] = sniffed.backing_file
        return 0, json.dumps(document), ""

    def _convert(self, args):
        with open(args[-2], "rb") as source, open(args[-1], "wb") as target:
            source.seek(PAYLOAD_OFFSET)
            target.write(source.read())
        return 0, "", ""

    def _create(self, args):
        with open(args[-1], "wb") as target:
            target.write(qcow2_bytes(backing=args[args.index("-b") + 1]))
        return 0, "", ""

    def _resize(self, args):
        os.truncate(args[-2], int(args[-1]))
        return 0, "", ""

    def _cp(self, args):
        shutil.copyfile(args[-2], args[-1])
        return 0, "", ""

    def _e2label(self, args):
        return 1, "", "Bad magic number in super-block"


def _payload_size(path, format_name):
    size = os.path.getsize(path)
    return size - PAYLOAD_OFFSET if format_name == "qcow2" else size


def record(image_id, location, data, disk_format="raw", **extra):
    fields = {"id": image_id, "name": extra.pop("name", "image-" + image_id[:4]), "status": "active",
              "disk_format": disk_format, "container_format": "bare", "size": len(data),
              "checksum": hashlib.md5(data).hexdigest(), "location": location}
    fields.update(extra)
    return fields


@pytest.fixture
def host():
    return FakeHost()


@pytest.fixture
def images(tmp_path):
    """A catalog of kernel, ramdisk, a qcow2 disk image (with kernel/ramdisk) and a raw image."""
    store = tmp_path / "store"
    store.mkdir()
    files = {"vmlinuz": b"kernel-bytes" * 100, "initrd": b"ramdisk-bytes" * 50,
             "disk.qcow2": qcow2_bytes(b"D" * 8192), "raw.img": b"R" * 4096}
    for name, data in files.items():
        (store / name).write_bytes(data)
    return [
        record(KERNEL_ID, "file://%s/vmlinuz" % store, files["vmlinuz"], "aki", name="kernel"),
        record(RAMDISK_ID, str(store / "initrd"), files["initrd"], "ari", name="ramdisk"),
        record(IMAGE_ID, "file://%s/disk.qcow2" % store, files["disk.qcow2"], "qcow2", name="disk",
               properties={"kernel_id": KERNEL_ID, "ramdisk_id": RAMDISK_ID}),
        record(RAW_IMAGE_ID, str(store / "raw.img"), files["raw.img"], "raw", name="rawdisk"),
    ]
