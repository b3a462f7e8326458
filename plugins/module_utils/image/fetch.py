# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's ``nova/virt/images.py`` ``fetch_to_raw``: an image's bytes into ``_base``, raw and verified.

The bytes are read from a location ``catalog.check_location`` accepted, written to
``<base>.part`` while their size and checksum are checked, looked at in Python, then inspected
with ``qemu-img info`` under resource limits, converted to raw when they are not raw, and
renamed into place. A base file appears under its final name only whole, verified and raw;
whatever fails leaves neither the base nor its ``.part``/``.converted`` behind.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import stat
import struct
import urllib.error
import urllib.parse
import urllib.request

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import fsync_directory, remove_quietly
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import DEFAULT_ALLOWED_SCHEMES

CHUNK_BYTES = 1024 * 1024
BASE_FILE_MODE = 0o644  # qemu runs as another user and reads bases through the overlays
# Nova's QEMU_IMG_LIMITS: a crafted image must not make qemu-img eat the host.
INFO_ADDRESS_SPACE = 1024 * 1024 * 1024
INFO_CPU_SECONDS = 30
C_LOCALE = {"LC_ALL": "C", "LANG": "C"}


class SourceFailed(NovaliteError):
    """The location could not be read; the message names it and the reason."""


class DownloadFailed(NovaliteError):
    """The bytes written are not the image: short, long, wrong sum, or the disk filled up."""


class ImageRefused(NovaliteError):
    """The image is unsafe or not what the catalog says it is."""


class SourceOptions:
    """How remote locations are read: socket timeout, proxy, and the schemes a redirect may lead to."""

    def __init__(self, timeout=60.0, use_proxy=True, schemes=DEFAULT_ALLOWED_SCHEMES):
        self.timeout = timeout
        self.use_proxy = use_proxy
        self.schemes = tuple(schemes)


def fetch_to_raw(image, source, path, qemu_img, options=None, shown=None):
    """Make ``path`` the raw bytes of ``image`` read from ``source``; returns its size in bytes.

    ``source`` is what ``check_location`` returned for the image's location, or the copy the
    controller delivered into the task's temporary directory: never anything else. ``shown`` is
    how messages name it (the catalog's location by default).
    """
    part, converted = path + ".part", path + ".converted"
    try:
        download(image, source, part, options or SourceOptions(), shown)
        info = inspect_download(part, image, qemu_img)
        if info.format != "raw":
            qemu_img.convert_to_raw(part, info.format, converted)
            _check_still_raw(image, converted)
            remove_quietly(part)
            part = converted
        os.chmod(part, BASE_FILE_MODE)
        _rename(part, path)
    finally:
        remove_quietly(path + ".part", converted)
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


# --- reading a location -----------------------------------------------------------------------

def read_chunks(source, options, shown=None):
    """Yield ``(chunk, announced_length)``; the length is None when the source does not say.

    ``shown`` is how messages name the source (the catalog's location), ``source`` by default.
    """
    if source.startswith(("http://", "https://")):
        return _read_url(source, options)
    return _read_file(source, shown or source)


def _read_file(path, shown):
    try:
        # O_NOFOLLOW: check_location resolved every symlink; one put in its place since is refused
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode):  # a FIFO or a device would never end
                raise SourceFailed("cannot read image location %s: not a regular file" % shown, location=shown)
            for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
                yield chunk, status.st_size
    except OSError as exc:
        raise SourceFailed("cannot read image location %s: %s" % (shown, exc.strerror or exc), location=shown)


class _RedirectsWithin(urllib.request.HTTPRedirectHandler):
    """urllib follows redirects to ftp:// too, and from https to http: only allowed schemes here."""

    def __init__(self, schemes):
        super().__init__()
        self.schemes = schemes

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        scheme = urllib.parse.urlsplit(newurl).scheme
        if scheme not in self.schemes:
            raise SourceFailed("cannot fetch %s: it redirects to %s, and %s:// is not an allowed scheme (allowed: %s)"
                               % (req.full_url, newurl, scheme, ", ".join(self.schemes) or "none"),
                               location=req.full_url)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _read_url(url, options):
    handlers = [_RedirectsWithin(options.schemes)]
    if not options.use_proxy:
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=options.timeout) as response:
            length = response.headers.get("Content-Length")
            length = int(length) if length and length.isdigit() else None
            for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                yield chunk, length
    except urllib.error.HTTPError as exc:
        raise SourceFailed("cannot fetch %s: HTTP %d %s" % (url, exc.code, exc.reason), location=url)
    except urllib.error.URLError as exc:
        raise SourceFailed("cannot fetch %s: %s" % (url, _reason(exc.reason)), location=url)
    except (OSError, http.client.HTTPException) as exc:  # resets, timeouts, broken responses mid-body
        raise SourceFailed("cannot fetch %s: %s" % (url, _reason(exc)), location=url)


def _reason(reason):
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


# --- download to .part, with size and checksum ---------------------------------------------------

def download(image, source, target, options, shown=None):
    """Write ``image``'s bytes from ``source`` to ``target`` (created or truncated); returns the byte count.

    The caller removes ``target`` when this raises.
    """
    shown = shown or image.location
    if not image.checksum:
        raise DownloadFailed("image %s has no checksum in the catalog; an unverified download is never used"
                             % image.label(), image_id=image.id)
    digest = hashlib.new(image.checksum_algorithm)
    received, announced = 0, None
    with _open_for_writing(target) as out:
        for chunk, announced in read_chunks(source, options, shown=shown):
            received += len(chunk)
            _check_not_longer(image, received, shown)
            digest.update(chunk)
            _write_chunk(out, chunk, target)
        _write_chunk(out, b"", target, sync=True)
    _check_length(image, received, announced, shown)
    if digest.hexdigest() != image.checksum:
        raise DownloadFailed("checksum mismatch for image %s from %s: expected %s %s, got %s"
                             % (image.label(), shown, image.checksum_algorithm, image.checksum,
                                digest.hexdigest()),
                             expected=image.checksum, actual=digest.hexdigest(), image_id=image.id)
    return received


def _open_for_writing(target):
    try:
        return open(target, "wb", buffering=0)  # unbuffered: close() has nothing left to fail on
    except OSError as exc:
        raise DownloadFailed("cannot write %s: %s" % (target, exc.strerror or exc))


def _write_chunk(out, chunk, target, sync=False):
    try:
        view = memoryview(chunk)
        while view:  # an unbuffered write may take only part of the chunk
            view = view[out.write(view):]
        if sync:
            out.flush()
            os.fsync(out.fileno())  # ENOSPC on a delayed write shows up here, not at close
    except OSError as exc:
        raise DownloadFailed("cannot write %s: %s" % (target, exc.strerror or exc))


def _check_not_longer(image, received, shown):
    """Stop early on a source that sends more than the catalog's size (never fill the disk for it)."""
    if image.size is not None and received > image.size:
        raise DownloadFailed("image %s from %s is longer than its catalog size of %d bytes"
                             % (image.label(), shown, image.size), image_id=image.id)


def _check_length(image, received, announced, shown):
    for expected, said_by in ((announced, "the source announced"), (image.size, "the catalog records")):
        if expected is not None and received != expected:
            raise DownloadFailed("%s download of image %s from %s: got %d bytes, %s %d"
                                 % ("truncated" if received < expected else "over-long", image.label(),
                                    shown, received, said_by, expected),
                                 image_id=image.id, received=received, expected_size=expected)


# --- format sniffing: the first bytes, read before qemu-img may probe the file -----------------
# ``qemu-img info`` without ``--backing-chain`` does not open a qcow2 backing file, but when it
# probes a VMDK descriptor it opens the extents it names (checked with strace on QEMU 7.2), so
# formats that can name other files are identified by their magic here, and a qcow2 header is
# read for its backing file and external data file (the checks of Nova's later format_inspector).

QCOW2_MAGIC = b"QFI\xfb"
QCOW2_INCOMPAT_DATA_FILE = 1 << 2
REFERRING_MAGIC = (  # formats that may refer to other files; qemu-img would open those
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
    """The backing file named by a qcow2 header, or None (also for files that are not qcow2).

    Read from the header rather than asked of qemu-img, which wants a lock on a running guest's disk.
    """
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


# --- inspection: whether a downloaded image may be used ---------------------------------------
# Refused: any backing file (a qcow2 pointing at /etc/shadow would hand the host's file to the
# guest), an external data file, and any format other than the one the catalog declares.

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


# --- qemu-img, and the raw extend -------------------------------------------------------------

class ImageInfo:
    """The fields of ``qemu-img info --output=json`` that decisions are made on."""

    def __init__(self, document, path):
        self.path = path
        self.format = document.get("format")
        self.backing_file = document.get("full-backing-filename") or document.get("backing-filename")
        specific = (document.get("format-specific") or {}).get("data") or {}
        self.data_file = specific.get("data-file")

    @classmethod
    def parse(cls, text, path):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise NovaliteError("qemu-img info for %s did not print JSON (%s): %r" % (path, exc, text[:200]))
        if not isinstance(document, dict) or not document.get("format"):
            raise NovaliteError("qemu-img info could not tell the format of %s" % path)
        return cls(document, path)


class QemuImg:
    """``qemu-img`` as Nova called it; ``tools`` maps command names (qemu-img, prlimit, ...) to binaries."""

    def __init__(self, run_command, tools):
        self.run_command = run_command
        self.tools = tools

    def info(self, path):
        """``qemu-img info`` as ``prlimit --as=1GiB --cpu=30``; never ``--backing-chain``."""
        args = [self.tools["prlimit"], "--as=%d" % INFO_ADDRESS_SPACE, "--cpu=%d" % INFO_CPU_SECONDS, "--",
                self.tools["qemu-img"], "info", "--output=json", path]
        return ImageInfo.parse(self._run(args), path)

    def convert_to_raw(self, source, source_format, target):
        self._run([self.tools["qemu-img"], "convert", "-f", source_format, "-O", "raw", source, target])

    def create_overlay(self, base, target):
        """A qcow2 disk whose backing file is the raw ``base`` (Nova's ``create_cow_image``)."""
        self._run([self.tools["qemu-img"], "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, target])

    def extend_raw(self, path, size_bytes):
        """Nova's ``disk.extend``: grow raw ``path`` to ``size_bytes`` (never shrinks), and the
        bare ext filesystem it holds if it is one."""
        if os.stat(path).st_size >= size_bytes:
            return
        self._run([self.tools["qemu-img"], "resize", "-q", "-f", "raw", path, str(size_bytes)])
        if self._is_unpartitioned_ext(path):
            # As Nova: e2fsck -fp first (resize2fs insists), and neither exit code is fatal, because
            # the disk is bigger either way and the guest can still grow the filesystem itself.
            self.run_command([self.tools["e2fsck"], "-fp", path])
            self.run_command([self.tools["resize2fs"], path])

    def _is_unpartitioned_ext(self, path):
        """``can_resize_fs``: e2label succeeds only on a bare ext2/3/4 filesystem."""
        if not all(self.tools.get(name) for name in ("e2label", "e2fsck", "resize2fs")):
            return False
        rc, _out, _err = self.run_command([self.tools["e2label"], path])
        return rc == 0

    def _run(self, args):
        return run_checked(self.run_command, args, environ_update=C_LOCALE)
