# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's ``disk.extend``: grow a raw image, and the ext filesystem it holds when it is one."""

from __future__ import annotations

import os


def extend_raw(path, size_bytes, qemu_img, run_command, tools):
    """Grow raw ``path`` to ``size_bytes`` (never shrinks: the caller checked the size)."""
    if os.stat(path).st_size >= size_bytes:
        return
    qemu_img.resize_raw(path, size_bytes)
    if _is_unpartitioned_ext(path, run_command, tools):
        # As Nova: e2fsck -fp first (resize2fs insists), and neither exit code is fatal, because
        # the disk is bigger either way and the guest can still grow the filesystem itself.
        run_command([tools["e2fsck"], "-fp", path])
        run_command([tools["resize2fs"], path])


def _is_unpartitioned_ext(path, run_command, tools):
    """``can_resize_fs``: e2label succeeds only on a bare ext2/3/4 filesystem."""
    if not all(tools.get(name) for name in ("e2label", "e2fsck", "resize2fs")):
        return False
    rc, _out, _err = run_command([tools["e2label"], path])
    return rc == 0
