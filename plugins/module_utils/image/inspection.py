# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a downloaded image may be used: ``images.fetch_to_raw``'s checks, and a few more.

Refused: any backing file (a qcow2 pointing at /etc/shadow would hand the host's file to
the guest), an external data file, and any format other than the one the catalog declares.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.image.format_sniff import sniff_file


class ImageRefused(NovaliteError):
    """The image is unsafe or not what the catalog says it is."""


def inspect_download(path, image, qemu_img):
    """The ``ImageInfo`` of the downloaded ``path`` if ``image`` (its record) may use it."""
    declared = image.qemu_format
    try:
        sniffed = sniff_file(path)
    except OSError as exc:
        raise NovaliteError("cannot read %s: %s" % (path, exc.strerror or exc))
    _refuse_references(image, sniffed.backing_file, sniffed.has_data_file, "its header")
    if sniffed.format != declared:
        _refuse(image, "its header says %s but the catalog declares disk_format %s (%s)"
                % (sniffed.format, image.disk_format, declared))
    # Only now may qemu-img probe it: nothing in it names another file.
    info = qemu_img.info(path)
    _refuse_references(image, info.backing_file, info.data_file, "qemu-img info")
    if info.format != declared:
        _refuse(image, "qemu-img sees format %s but the catalog declares disk_format %s (%s)"
                % (info.format, image.disk_format, declared))
    return info


def _refuse_references(image, backing_file, data_file, seen_by):
    if backing_file:
        _refuse(image, "%s names a backing file (%s); images with backing files are never used"
                % (seen_by, backing_file))
    if data_file:
        _refuse(image, "%s names an external data file%s; such images are never used"
                % (seen_by, " (%s)" % data_file if isinstance(data_file, str) else ""))


def _refuse(image, reason):
    raise ImageRefused("image %s refused: %s" % (image.label(), reason), image_id=image.id)
