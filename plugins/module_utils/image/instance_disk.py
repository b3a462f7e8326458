# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An instance's disk after it was made: its chain, and growing it for a resize.

Nova's libvirt driver grew a resized disk in ``finish_migration`` (``_disk_resize``,
``nova/virt/disk/api.py`` ``extend`` and ``resize2fs``): ``qemu-img resize`` and then the bare ext
filesystem on it. Nova could only reach a qcow2 disk's filesystem by flattening it to raw first,
losing the copy-on-write link to ``_base``. Here the overlay stays an overlay of its cached base:
``qemu-img resize`` grows the overlay, and the filesystem is grown through a FUSE export of the
overlay by ``qemu-storage-daemon`` (a raw view of the whole chain; resize2fs's writes land in the
overlay, the base is never written). Without qemu-storage-daemon or ``/dev/fuse`` the disk is
still grown and the guest can grow its filesystem itself; the result says which.

A disk is never shrunk. The qcow2 header is read here rather than asked of ``qemu-img info``,
which wants a lock a running guest holds.
"""

from __future__ import annotations

import os
import signal
import struct
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import remove_quietly
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.image.cache import classify_base_name
from ansible_collections.novalite.compute.plugins.module_utils.image.fetch import (
    C_LOCALE, QCOW2_MAGIC, qcow2_backing_file)

GIB = 1024 ** 3
EXT_MAGIC_OFFSET, EXT_MAGIC = 1080, b"\x53\xef"  # s_magic of an ext2/3/4 superblock at 1024
FUSE_DEVICE = "/dev/fuse"
DAEMON_TIMEOUT = 30.0
GROW_TOOLS = ("qemu-storage-daemon", "e2fsck", "resize2fs")


class DiskChain:
    """What a disk file is: its format, virtual size and backing file (the header's name)."""

    def __init__(self, path, disk_format, virtual_size, backing_file=None):
        self.path = path
        self.format = disk_format
        self.virtual_size = virtual_size
        self.backing_file = backing_file

    @property
    def base_name(self):
        return os.path.basename(self.backing_file) if self.backing_file else None

    @property
    def base_root_gb(self):
        """The root_gb whose ``_base`` file backs the disk: 0 for an original, N for ``<sha1>_N``;
        None when the backing file is not a cache base (or there is none)."""
        if not self.base_name:
            return None
        kind, _original = classify_base_name(self.base_name)
        if kind == "original":
            return 0
        if kind == "resized":
            return int(self.base_name.rsplit("_", 1)[1])
        return None

    def as_dict(self):
        return {"path": self.path, "format": self.format, "virtual_size": self.virtual_size,
                "backing_file": self.backing_file, "base_name": self.base_name, "base_root_gb": self.base_root_gb}


def disk_chain(path):
    """The DiskChain of ``path`` (a qcow2 by its header; anything else is taken as raw)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(32)
    except OSError as exc:
        raise NovaliteError("cannot read disk %s: %s" % (path, exc.strerror or exc)) from None
    if head[:4] != QCOW2_MAGIC or len(head) < 32:
        return DiskChain(path, "raw", os.stat(path).st_size)
    return DiskChain(path, "qcow2", struct.unpack(">Q", head[24:32])[0], qcow2_backing_file(path))


def root_gb_bytes(root_gb):
    return root_gb * GIB


def find_grow_tools(get_bin_path):
    """{name: path or None} of qemu-img and the tools that grow a filesystem (in sbin too)."""
    tools = {name: get_bin_path(name, required=False, opt_dirs=["/usr/sbin", "/sbin"])
             for name in ("qemu-img",) + GROW_TOOLS}
    if not tools["qemu-img"]:
        raise NovaliteError("qemu-img (package qemu-utils) is needed on this host to grow a disk")
    return tools


class DiskGrower:
    """Grow a qcow2 overlay (never shrink) and the bare ext filesystem in it."""

    def __init__(self, run_command, tools, fuse_device=FUSE_DEVICE, timeout=DAEMON_TIMEOUT):
        self.run_command = run_command
        self.tools = tools
        self.fuse_device = fuse_device
        self.timeout = timeout

    def filesystem_tools_missing(self):
        """Why the filesystem cannot be grown on this host, or None."""
        missing = [name for name in GROW_TOOLS if not self.tools.get(name)]
        if missing:
            return "missing %s" % ", ".join(missing)
        if not os.path.exists(self.fuse_device):
            return "no %s" % self.fuse_device
        return None

    def grow(self, path, size):
        """Grow disk ``path`` to ``size`` bytes; returns what became of its filesystem."""
        chain = disk_chain(path)
        if chain.virtual_size >= size:
            return "unchanged"
        run_checked(self.run_command, [self.tools["qemu-img"], "resize", "-q", "-f", chain.format, path, str(size)],
                    environ_update=C_LOCALE)
        why_not = self.filesystem_tools_missing()
        if why_not:
            return "not grown (%s; the guest can grow it)" % why_not
        with FuseExport(self.run_command, self.tools["qemu-storage-daemon"], path, chain.format,
                        self.timeout) as raw_view:
            if not _is_bare_ext(raw_view):
                return "not grown (not a bare ext filesystem)"
            # As Nova: e2fsck -fp first (resize2fs insists); its exit codes 1 and 2 mean "fixed"
            rc, _out, err = self.run_command([self.tools["e2fsck"], "-fp", raw_view], environ_update=C_LOCALE)
            if rc >= 4:
                return "not grown (e2fsck -fp exited %d: %s)" % (rc, err.strip())
            run_checked(self.run_command, [self.tools["resize2fs"], raw_view], environ_update=C_LOCALE)
        return "grown"


def _is_bare_ext(path):
    with open(path, "rb") as handle:
        handle.seek(EXT_MAGIC_OFFSET)
        return handle.read(2) == EXT_MAGIC


class FuseExport:
    """``qemu-storage-daemon`` exporting a disk's whole chain as a raw file over FUSE, for the block.

    The export's mount point and pid file sit next to the disk (``.<disk>.fuse``, ``.<disk>.pid``);
    the daemon is stopped by its pid on leaving (it unmounts the export as it exits), whatever
    happened inside.
    """

    def __init__(self, run_command, daemon, disk, disk_format, timeout=DAEMON_TIMEOUT):
        directory, name = os.path.split(disk)
        self.run_command = run_command
        self.daemon = daemon
        self.disk = disk
        self.disk_format = disk_format
        self.timeout = timeout
        self.mountpoint = os.path.join(directory, ".%s.fuse" % name)
        self.pidfile = os.path.join(directory, ".%s.pid" % name)
        self.pid = None

    def __enter__(self):
        with open(self.mountpoint, "wb"):
            pass  # a FUSE export's mount point is a regular file
        try:
            run_checked(self.run_command, [
                self.daemon, "--daemonize", "--pidfile", self.pidfile,
                "--blockdev", "driver=file,node-name=file,filename=%s" % _escaped(self.disk),
                "--blockdev", "driver=%s,node-name=disk,file=file" % self.disk_format,
                "--export", "type=fuse,id=raw,node-name=disk,mountpoint=%s,writable=on" % _escaped(self.mountpoint)],
                environ_update=C_LOCALE)
            with open(self.pidfile) as handle:
                self.pid = int(handle.read().strip())
        except BaseException:
            self._stop()
            raise
        return self.mountpoint

    def __exit__(self, *exc_info):
        self._stop()

    def _stop(self):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + self.timeout
            while _alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(self.pid):
                raise NovaliteError("qemu-storage-daemon %d exporting %s did not stop within %ss"
                                    % (self.pid, self.disk, self.timeout))
        remove_quietly(self.mountpoint, self.pidfile)


def _alive(pid):
    """Whether ``pid`` still runs (the daemon is not our child: it daemonized)."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _escaped(path):
    """A path as a value in qemu's key=value option syntax (a comma is doubled)."""
    return path.replace(",", ",,")


def rebase_onto(run_command, qemu_img, path, backing_file):
    """Point a qcow2 overlay at ``backing_file`` (the same base under another instances_path):
    ``qemu-img rebase -u``, which only rewrites the header."""
    run_checked(run_command, [qemu_img, "rebase", "-u", "-f", "qcow2", "-F", "raw", "-b", backing_file, path],
                environ_update=C_LOCALE)
