# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``images.fetch_to_raw``: download to ``<base>.part``, verify, inspect, convert, rename.

A base file appears under its final name only whole, verified and raw; whatever fails
leaves neither the base nor its ``.part``/``.converted`` behind.
"""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.common.files import fsync_directory, remove_quietly
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.image.download import download
from ansible_collections.novalite.compute.plugins.module_utils.image.format_sniff import sniff_file
from ansible_collections.novalite.compute.plugins.module_utils.image.inspection import ImageRefused, inspect_download

BASE_FILE_MODE = 0o644  # qemu runs as another user and reads bases through the overlays


def fetch_to_raw(image, path, qemu_img, timeout=60.0, use_proxy=True):
    """Make ``path`` the raw bytes of ``image``; returns its virtual size in bytes."""
    part, converted = path + ".part", path + ".converted"
    try:
        download(image, part, timeout=timeout, use_proxy=use_proxy)
        info = inspect_download(part, image, qemu_img)
        if info.format != "raw":
            qemu_img.convert_to_raw(part, info.format, converted)
            _check_still_raw(image, converted)
            remove_quietly(part)
            part = converted
        os.chmod(part, BASE_FILE_MODE)
        _rename(part, path)
    finally:
        for leftover in (path + ".part", converted):
            remove_quietly(leftover)
    return os.stat(path).st_size


def _check_still_raw(image, converted):
    """Nova re-checks the converted file: raw bytes that open with, say, a qcow2 header
    would be probed as that format by anyone who looks at the base without ``-F raw``."""
    sniffed = sniff_file(converted).format
    if sniffed != "raw":
        raise ImageRefused("image %s refused: its disk content starts with a %s header once converted to raw"
                           % (image.label(), sniffed), image_id=image.id)


def _rename(source, target):
    try:
        os.rename(source, target)
        fsync_directory(os.path.dirname(target))
    except OSError as exc:
        raise NovaliteError("cannot move %s into place as %s: %s" % (source, target, exc.strerror or exc))
