"""Plumbing for the image_cache integration tests: running the module through Ansible on a
sandbox host, an image server inside a host, an inotify watch on a file, and a guest booted
from the files the module prepared."""

import ctypes
import itertools
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree
from lxml.builder import E

from sandbox import stop_pids

REPO = Path(__file__).resolve().parents[2]
ANSIBLE = REPO / ".venv" / "bin" / "ansible"
SERVER_SCRIPT = Path(__file__).resolve().parent / "image_http_server.py"
MODULE = "novalite.compute.image_cache"
MODULE_TIMEOUT = 600  # other engineers' guests share the 2 cores
_ports = itertools.count(18080)


class ModuleRun:
    """One ``ansible HOST -m image_cache`` process; ``result()`` waits and reads its JSON."""

    def __init__(self, sandbox, host_name, args, check=False, diff=False):
        self.tree = Path(tempfile.mkdtemp(prefix="nl-image-cache-"))
        command = [str(ANSIBLE), host_name, "-i", str(sandbox.inventory_path), "-m", MODULE,
                   "-a", json.dumps(args), "--tree", str(self.tree)]
        command += ["--check"] if check else []
        # the tree callback drops "diff" from what it writes below verbosity 3
        command += ["--diff", "-vvv"] if diff else []
        self.host_name = host_name
        self.started = time.time()
        self.process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))

    def result(self, timeout=MODULE_TIMEOUT):
        output = self.process.communicate(timeout=timeout)[0]
        self.finished = time.time()
        path = self.tree / self.host_name
        try:
            result = json.loads(path.read_text())
            result["failed"] = self.process.returncode != 0  # the tree callback leaves "failed" out
            return result
        except FileNotFoundError:
            raise AssertionError("ansible left no result (rc=%d):\n%s" % (self.process.returncode, output))
        finally:
            for leftover in self.tree.iterdir():
                leftover.unlink()
            self.tree.rmdir()


def run_module(sandbox, host_name, args, check=False, diff=False):
    return ModuleRun(sandbox, host_name, args, check=check, diff=diff).result()


def host_tree(host, path):
    """Every file and directory under ``path`` inside the host, with size (what a run may change)."""
    listing = host.run(["find", path, "-printf", "%P %y %s\n"], check=False)
    return sorted(listing.stdout.splitlines()) if listing.returncode == 0 else []


class ImageServer:
    """image_http_server.py inside ``host``, serving ``root`` (a directory both sides see)."""

    def __init__(self, host, root, mode="whole", delay=0.0):
        self.host, self.root, self.port = host, Path(root), next(_ports)
        self.access_log = self.root / ("access-%d.log" % self.port)
        self.process = subprocess.Popen(
            host.enter_command([sys.executable, str(SERVER_SCRIPT), str(self.root), str(self.port),
                                str(self.access_log), mode, str(delay)]),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        ready = Path(str(self.access_log) + ".ready")
        deadline = time.monotonic() + 30
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("image server on port %d did not start" % self.port)
            time.sleep(0.1)
        self.pid = int(ready.read_text())

    def url(self, name):
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def fetches(self, name):
        if not self.access_log.exists():
            return []
        return [line for line in self.access_log.read_text().splitlines() if line.endswith(" GET /" + name)]

    def stop(self):
        stop_pids([self.process.pid])
        self.process.wait(timeout=10)


IN_ACCESS, IN_OPEN = 0x1, 0x20


class OpenWatch:
    """An inotify watch reporting every open or read of one file, from any namespace."""

    def __init__(self, path):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, str(path).encode(), IN_OPEN | IN_ACCESS) < 0:
            raise OSError(ctypes.get_errno(), "inotify on %s" % path)

    def events(self):
        masks = []
        while True:
            try:
                data = os.read(self.fd, 4096)
            except BlockingIOError:
                return masks
            offset = 0
            while offset < len(data):
                _wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                masks.append(mask)
                offset += 16 + length

    def close(self):
        os.close(self.fd)


def instance_domain_xml(name, paths, memory_mib=128):
    """A TCG guest booted AMI-style from what image_cache made: kernel, ramdisk, qcow2 disk."""
    domain = E.domain(
        E.name(name), E.memory(str(memory_mib), unit="MiB"), E.vcpu("1"),
        E.os(E.type("hvm", arch="x86_64"), E.kernel(paths["kernel"]), E.initrd(paths["ramdisk"]),
             E.cmdline("root=/dev/vda console=ttyS0")),
        E.features(E.acpi()),
        E.devices(E.disk(E.driver(name="qemu", type="qcow2"), E.source(file=paths["disk"]),
                         E.target(dev="vda", bus="virtio"), type="file", device="disk"),
                  E.serial(E.source(path=paths["console_log"]), type="file")),
        type="qemu")
    return etree.tostring(domain, encoding="unicode")
