"""Plumbing for the image_cache integration tests: what a host holds under a path, an image
server inside a host, and an inotify watch on a file."""

import ctypes
import itertools
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

from sandbox import stop_pids

SERVER_SCRIPT = Path(__file__).resolve().parent / "image_http_server.py"
_ports = itertools.count(18080)


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
