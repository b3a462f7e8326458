# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A look at an image's first bytes in Python, before qemu-img is allowed to probe it.

``qemu-img info`` without ``--backing-chain`` does not open a qcow2 backing file, but when
it probes a VMDK descriptor it opens the extents it names (checked with strace on QEMU 7.2),
so a file claiming any format is first read here: formats that can name other files are
identified by their magic, and a qcow2 header is read for its backing file and external
data file (the checks of Nova's later format_inspector).
"""

from __future__ import annotations

import struct

QCOW2_MAGIC = b"QFI\xfb"
QCOW2_INCOMPAT_DATA_FILE = 1 << 2
# Magic numbers of formats that may refer to other files; qemu-img would open those.
REFERRING_MAGIC = (
    (b"KDMV", "vmdk"),
    (b"# Disk DescriptorFile", "vmdk"),
    (b"QED\x00", "qed"),
    (b"vhdxfile", "vhdx"),
    (b"conectix", "vpc"),
    (b"LUKS\xba\xbe", "luks"),
)
HEADER_BYTES = 4096
MAX_BACKING_NAME = 1023  # qcow2 spec limit; a larger field is a corrupt header


class Sniffed:
    """What the first bytes say: the format (``raw`` when nothing else matched) and references."""

    def __init__(self, format_name, backing_file=None, has_data_file=False):
        self.format = format_name
        self.backing_file = backing_file
        self.has_data_file = has_data_file


def sniff_file(path):
    with open(path, "rb") as handle:
        head = handle.read(HEADER_BYTES)
        if not head.startswith(QCOW2_MAGIC):
            return sniff_bytes(head)
        return _read_qcow2(handle, head)


def sniff_bytes(head):
    for magic, name in REFERRING_MAGIC:
        if head.startswith(magic):
            return Sniffed(name)
    return Sniffed("raw")


def qcow2_backing_file(path):
    """The backing file named by a qcow2 header, or None (also for files that are not qcow2)."""
    try:
        sniffed = sniff_file(path)
    except OSError:
        return None
    return sniffed.backing_file if sniffed.format == "qcow2" else None


def _read_qcow2(handle, head):
    if len(head) < 20:
        return Sniffed("qcow2-corrupt")
    version, backing_offset, backing_size = struct.unpack(">IQI", head[4:20])
    incompatible = struct.unpack(">Q", head[72:80])[0] if version >= 3 and len(head) >= 80 else 0
    backing_file = None
    if backing_offset:
        if backing_size > MAX_BACKING_NAME:
            return Sniffed("qcow2-corrupt", backing_file="<%d bytes>" % backing_size)
        handle.seek(backing_offset)
        backing_file = handle.read(backing_size).decode("utf-8", "replace") or "<empty name>"
    return Sniffed("qcow2", backing_file=backing_file,
                   has_data_file=bool(incompatible & QCOW2_INCOMPAT_DATA_FILE))
