# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copying an image's bytes to a ``.part`` file while checking its size and checksum."""

from __future__ import annotations

import hashlib
import os

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.image.source import read_chunks


class DownloadFailed(NovaliteError):
    """The bytes written are not the image: short, long, wrong sum, or the disk filled up."""


def download(image, target, timeout=60.0, use_proxy=True):
    """Write ``image``'s bytes to ``target`` (created or truncated); returns the byte count.

    The caller removes ``target`` when this raises.
    """
    if not image.checksum:
        raise DownloadFailed("image %s has no checksum in the catalog; an unverified download is never used"
                             % image.label(), image_id=image.id)
    digest = hashlib.new(image.checksum_algorithm)
    received, announced = 0, None
    with _open_for_writing(target) as out:
        for chunk, announced in read_chunks(image.location, timeout, use_proxy):
            received += len(chunk)
            _check_not_longer(image, received)
            digest.update(chunk)
            _write(out, chunk, target)
        _write(out, b"", target, sync=True)
    _check_length(image, received, announced)
    if digest.hexdigest() != image.checksum:
        raise DownloadFailed("checksum mismatch for image %s from %s: expected %s %s, got %s"
                             % (image.label(), image.location, image.checksum_algorithm, image.checksum,
                                digest.hexdigest()),
                             expected=image.checksum, actual=digest.hexdigest(), image_id=image.id)
    return received


def _open_for_writing(target):
    try:
        return open(target, "wb", buffering=0)  # unbuffered: close() has nothing left to fail on
    except OSError as exc:
        raise DownloadFailed("cannot write %s: %s" % (target, exc.strerror or exc))


def _write(out, chunk, target, sync=False):
    try:
        view = memoryview(chunk)
        while view:  # an unbuffered write may take only part of the chunk
            view = view[out.write(view):]
        if sync:
            out.flush()
            os.fsync(out.fileno())  # ENOSPC on a delayed write shows up here, not at close
    except OSError as exc:
        raise DownloadFailed("cannot write %s: %s" % (target, exc.strerror or exc))


def _check_not_longer(image, received):
    """Stop early on a source that sends more than the catalog's size (never fill the disk for it)."""
    if image.size is not None and received > image.size:
        raise DownloadFailed("image %s from %s is longer than its catalog size of %d bytes"
                             % (image.label(), image.location, image.size), image_id=image.id)


def _check_length(image, received, announced):
    for expected, said_by in ((announced, "the source announced"), (image.size, "the catalog records")):
        if expected is not None and received != expected:
            raise DownloadFailed("%s download of image %s from %s: got %d bytes, %s %d"
                                 % ("truncated" if received < expected else "over-long", image.label(),
                                    image.location, received, said_by, expected),
                                 image_id=image.id, received=received, expected_size=expected)
