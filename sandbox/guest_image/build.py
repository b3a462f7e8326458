#!/usr/bin/env python3
"""Build the novalite test guest image and its Glance-like catalog.

Outputs in DIR (default $NOVALITE_IMAGE_DIR or /var/tmp/novalite-images):
  vmlinuz      copy of the newest installed Debian cloud kernel
  initrd.img   gzip'd newc cpio: busybox, the virtio/ata/cdrom/acpi modules, /init
  disk.qcow2   32 MiB ext4 holding /novalite-disk-id
  catalog.yml  the three images (aki, ari, qcow2) as Glance would record them

Every output is reproducible (fixed mtimes, uuids and hash seeds), so an
unchanged input gives byte-identical files and the same image ids. When the
input fingerprint matches the one stored by the last build, nothing is done.

Usage: build.py [--out DIR]   (as root, stdlib + PyYAML only)
"""
import argparse
import datetime
import glob
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
INIT_SCRIPT = os.path.join(HERE, "init.sh")
UDHCPC_SCRIPT = os.path.join(HERE, "udhcpc.sh")
BUSYBOX = "/bin/busybox"
DEFAULT_OUT = os.environ.get("NOVALITE_IMAGE_DIR", "/var/tmp/novalite-images")

# Loaded by /init in this order; modprobe adds each one's dependencies first.
MODULES = ["virtio_pci", "virtio_net", "virtio_blk",   # NIC and root disk
           "ata_piix", "ata_generic", "sr_mod", "isofs",  # IDE cdrom: config drive
           "button", "evdev"]                           # ACPI power button for acpid
REQUIRED_TOOLS = ["modprobe", "mkfs.ext4", "debugfs", "qemu-img"]

DISK_MARKER = "novalite-test-disk\n"
DISK_SIZE = 32 * 1024 * 1024
FIXED_TIME = 1000000000  # mtime of every packed file, so rebuilds are byte-identical
# Fixed namespace for image ids: uuid5(namespace, name + checksum).
ID_NAMESPACE = uuid.UUID("8d3c1e0e-6a2b-5f7e-9a41-2f0c6b9e4d11")
FS_UUID = "6b1f4a43-0000-4000-8000-000000000001"
FS_HASH_SEED = "6b1f4a43-0000-4000-8000-000000000002"


def fail(message):
    sys.exit(f"build.py: error: {message}")


def run(*cmd, **env):
    """Run a command; on failure exit with its stderr rather than a traceback."""
    result = subprocess.run(cmd, capture_output=True, text=True,
                            env={**os.environ, **env})
    if result.returncode != 0:
        fail(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def check_tools():
    # modprobe, mkfs.ext4 and debugfs live in sbin, which a non-login PATH may lack.
    os.environ["PATH"] += os.pathsep + "/usr/sbin:/sbin"
    missing = [tool for tool in REQUIRED_TOOLS if not shutil.which(tool)]
    if missing:
        fail(f"missing tools: {', '.join(missing)} (apt-get install kmod e2fsprogs qemu-utils)")
    if not os.path.isfile(BUSYBOX) or not is_static_elf(BUSYBOX):
        fail(f"{BUSYBOX} missing or not static (apt-get install busybox-static)")


def is_static_elf(path):
    """True when the ELF file has no PT_INTERP program header (no dynamic loader)."""
    with open(path, "rb") as f:
        header = f.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2:  # 64-bit only
            return False
        phoff = int.from_bytes(header[32:40], "little")
        phentsize = int.from_bytes(header[54:56], "little")
        phnum = int.from_bytes(header[56:58], "little")
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    types = [int.from_bytes(table[i:i + 4], "little") for i in range(0, len(table), phentsize)]
    return 3 not in types  # PT_INTERP == 3


def version_key(kver):
    return [int(part) for part in re.findall(r"\d+", kver)]


def newest_cloud_kernel():
    """(version, vmlinuz path) of the newest cloud kernel that has its modules."""
    found = []
    for path in glob.glob("/boot/vmlinuz-*-cloud-amd64"):
        kver = os.path.basename(path)[len("vmlinuz-"):]
        if os.path.isdir(f"/lib/modules/{kver}"):
            found.append((version_key(kver), kver, path))
    if not found:
        fail("no /boot/vmlinuz-*-cloud-amd64 with /lib/modules (apt-get install linux-image-cloud-amd64)")
    _, kver, path = max(found)
    return kver, path


def file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fingerprint(kver):
    parts = {"kernel": kver}
    for path in (__file__, INIT_SCRIPT, UDHCPC_SCRIPT, BUSYBOX):
        parts[os.path.basename(path)] = file_sha256(path)
    return json.dumps(parts, sort_keys=True)


def module_files(kver):
    """Module .ko paths in load order, dependencies first, each once."""
    ordered = []
    for module in MODULES:
        out = run("modprobe", "-S", kver, "--show-depends", module)
        for line in out.splitlines():
            words = line.split()
            if words[:1] == ["builtin"]:
                continue
            if words[:1] != ["insmod"]:
                fail(f"unexpected modprobe output for {module}: {line}")
            if words[1] not in ordered:
                ordered.append(words[1])
    return ordered


def read_module(path):
    """Module bytes, decompressed: busybox insmod may lack xz/gzip support."""
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if path.endswith(".zst"):
        fail(f"{path}: zstd modules are not supported")
    return data


def module_name(path):
    return os.path.basename(path).split(".ko")[0]


# --- initrd ---------------------------------------------------------------

def cpio_entry(name, mode, data=b"", rdev=(0, 0), ino=0):
    """One newc cpio record; uid/gid 0 and a fixed mtime keep it reproducible."""
    name_bytes = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, FIXED_TIME, len(data), 0, 0, rdev[0], rdev[1],
              len(name_bytes), 0]
    header = b"070701" + b"".join(b"%08X" % value for value in fields)
    record = header + name_bytes
    record += b"\0" * (-len(record) % 4) + data
    return record + b"\0" * (-len(record) % 4)


def initrd_tree(kver):
    """{path: (mode, data, rdev)} of everything in the ramdisk."""
    tree = {}

    def directory(path):
        tree[path] = (stat.S_IFDIR | 0o755, b"", (0, 0))

    def file(path, data, perm=0o644):
        tree[path] = (stat.S_IFREG | perm, data, (0, 0))

    def symlink(path, target):
        tree[path] = (stat.S_IFLNK | 0o777, target.encode(), (0, 0))

    for path in ("bin", "dev", "etc", "lib", "lib/modules", "mnt", "proc", "root",
                 "run", "sys", "tmp", "usr", "var", "var/log", "www"):
        directory(path)
    # The kernel opens /dev/console for init's stdio before devtmpfs is mounted.
    tree["dev/console"] = (stat.S_IFCHR | 0o600, b"", (5, 1))
    for link in ("sbin", "usr/bin", "usr/sbin"):
        symlink(link, "/bin")
    with open(BUSYBOX, "rb") as f:
        file("bin/busybox", f.read(), 0o755)
    for applet in run(BUSYBOX, "--list").split():
        if applet != "busybox":
            symlink(f"bin/{applet}", "busybox")
    with open(INIT_SCRIPT, "rb") as f:
        file("init", f.read(), 0o755)
    with open(UDHCPC_SCRIPT, "rb") as f:
        file("etc/udhcpc.sh", f.read(), 0o755)
    order = []
    for path in module_files(kver):
        name = module_name(path)
        file(f"lib/modules/{name}.ko", read_module(path))
        order.append(name)
    file("lib/modules/load-order", ("\n".join(order) + "\n").encode())
    return tree


def build_initrd(kver, dest):
    archive = io.BytesIO()
    for ino, (path, (mode, data, rdev)) in enumerate(sorted(initrd_tree(kver).items()), 1):
        archive.write(cpio_entry(path, mode, data, rdev, ino))
    archive.write(cpio_entry("TRAILER!!!", 0))
    with open(dest, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(archive.getvalue())


# --- disk -----------------------------------------------------------------

def build_disk(dest, workdir):
    content = os.path.join(workdir, "disk-root")
    os.mkdir(content)
    marker = os.path.join(content, "novalite-disk-id")
    with open(marker, "w") as f:
        f.write(DISK_MARKER)
    for path in (marker, content):
        os.utime(path, (FIXED_TIME, FIXED_TIME))
    raw = os.path.join(workdir, "disk.raw")
    with open(raw, "wb") as f:
        f.truncate(DISK_SIZE)
    run("mkfs.ext4", "-q", "-F", "-L", "novalite-disk", "-U", FS_UUID,
        "-E", f"hash_seed={FS_HASH_SEED}", "-d", content, raw,
        E2FSPROGS_FAKE_TIME=str(FIXED_TIME))
    # mkfs -d copies the source file's ctime, which cannot be set: pin it here.
    run("debugfs", "-w", "-R", f"sif /novalite-disk-id ctime {FIXED_TIME}", raw)
    run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, dest)


# --- catalog --------------------------------------------------------------

def file_md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def image_record(name, path, disk_format, container_format, previous, properties=None):
    checksum = file_md5(path)
    image_id = str(uuid.uuid5(ID_NAMESPACE, f"{name}:{checksum}"))
    # An unchanged image keeps its creation time, as it would in Glance.
    created_at = previous.get(image_id) or \
        datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    return {
        "id": image_id,
        "name": name,
        "status": "active",
        "disk_format": disk_format,
        "container_format": container_format,
        "size": os.path.getsize(path),
        "checksum": checksum,
        "min_ram": 0,
        "min_disk": 0,
        "owner": None,
        "is_public": True,
        "created_at": created_at,
        "properties": properties or {},
        "location": "file://" + os.path.abspath(path),
    }


def previous_created_at(catalog_path):
    """{image id: created_at} from an earlier catalog, if any."""
    try:
        with open(catalog_path) as f:
            images = (yaml.safe_load(f) or {}).get("images") or []
    except (OSError, yaml.YAMLError):
        return {}
    return {image["id"]: image["created_at"] for image in images}


def build_catalog(out, dest):
    previous = previous_created_at(dest)
    kernel = image_record("novalite-test-kernel", os.path.join(out, "vmlinuz"),
                          "aki", "aki", previous)
    ramdisk = image_record("novalite-test-ramdisk", os.path.join(out, "initrd.img"),
                           "ari", "ari", previous)
    machine = image_record("novalite-test-image", os.path.join(out, "disk.qcow2"),
                           "qcow2", "bare", previous,
                           {"kernel_id": kernel["id"], "ramdisk_id": ramdisk["id"]})
    write_atomically(dest, yaml.safe_dump({"images": [kernel, ramdisk, machine]}, sort_keys=False))
    return [kernel, ramdisk, machine]


def write_atomically(path, text):
    """Write via rename, so a concurrent reader or build never sees half a file."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# --- main -----------------------------------------------------------------

OUTPUTS = ("vmlinuz", "initrd.img", "disk.qcow2", "catalog.yml")


def up_to_date(out, stamp, expected):
    if not all(os.path.isfile(os.path.join(out, name)) for name in OUTPUTS):
        return False
    try:
        with open(stamp) as f:
            return f.read() == expected
    except OSError:
        return False


def summarize(images):
    for image in images:
        print(f"{image['name']}: {image['location'][len('file://'):]} "
              f"{image['disk_format']}/{image['container_format']} "
              f"size={image['size']} md5={image['checksum']} id={image['id']}")


def build(out):
    check_tools()
    kver, vmlinuz = newest_cloud_kernel()
    os.makedirs(out, exist_ok=True)
    stamp = os.path.join(out, ".fingerprint")
    expected = fingerprint(kver)
    if up_to_date(out, stamp, expected):
        with open(os.path.join(out, "catalog.yml")) as f:
            summarize(yaml.safe_load(f)["images"])
        print(f"catalog: {os.path.join(out, 'catalog.yml')} up to date")
        print(f"up to date (kernel {kver})")
        return
    with tempfile.TemporaryDirectory(dir=out, prefix=".build-") as work:
        # Build beside the outputs, then rename: readers never see half a file.
        shutil.copyfile(vmlinuz, os.path.join(work, "vmlinuz"))
        build_initrd(kver, os.path.join(work, "initrd.img"))
        build_disk(os.path.join(work, "disk.qcow2"), work)
        for name in ("vmlinuz", "initrd.img", "disk.qcow2"):
            os.replace(os.path.join(work, name), os.path.join(out, name))
    images = build_catalog(out, os.path.join(out, "catalog.yml"))
    write_atomically(stamp, expected)
    summarize(images)
    print(f"catalog: {os.path.join(out, 'catalog.yml')} images={len(images)}")
    print(f"built (kernel {kver})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    args = parser.parse_args()
    if os.geteuid() != 0:
        fail("must run as root (reads /boot and /lib/modules, runs mkfs)")
    build(os.path.abspath(args.out))


if __name__ == "__main__":
    main()
