import errno
import hashlib
import http.server
import os
import threading

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import CommandFailed
from ansible_collections.novalite.compute.plugins.module_utils.image import fetch as fetch_module
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import ImageRecord, check_location
from ansible_collections.novalite.compute.plugins.module_utils.image.fetch import (
    DownloadFailed, ImageRefused, QemuImg, SourceFailed, SourceOptions, fetch_to_raw, qcow2_backing_file,
    read_chunks, sniff_bytes, sniff_file)

from .conftest import TOOLS, qcow2_bytes, record


@pytest.fixture
def base_dir(tmp_path):
    path = tmp_path / "_base"
    path.mkdir()
    return path


def leftovers(base_dir):
    return sorted(os.listdir(base_dir))


def fetch(image, base_dir, host, image_dirs=None):
    """fetch_to_raw from where check_location says (by default anywhere under the test's tmp_path)."""
    record = ImageRecord(image)
    source = check_location(record.location, image_dirs or [str(base_dir.parent)])
    return fetch_to_raw(record, source, str(base_dir / "base"), QemuImg(host, TOOLS))


def test_raw_image_is_verified_inspected_under_limits_and_renamed(images, base_dir, host):
    assert fetch(images[3], base_dir, host) == 4096
    assert leftovers(base_dir) == ["base"]
    assert oct(os.stat(base_dir / "base").st_mode & 0o777) == "0o644"
    info = host.commands("info")[0]
    assert info[:4] == ["prlimit", "--as=1073741824", "--cpu=30", "--"]
    assert "--backing-chain" not in info and info[-2:] == ["--output=json", str(base_dir / "base.part")]
    assert not host.commands("convert")


def test_qcow2_image_is_converted_to_raw(images, base_dir, host):
    assert fetch(images[2], base_dir, host) == 8192
    assert (base_dir / "base").read_bytes() == b"D" * 8192
    convert = host.commands("convert")[0]
    assert convert[:6] == ["qemu-img", "convert", "-f", "qcow2", "-O", "raw"]
    assert leftovers(base_dir) == ["base"]


def test_checksum_mismatch_names_both_sums_and_leaves_nothing(images, base_dir, host):
    images[3]["checksum"] = "0" * 32
    with pytest.raises(DownloadFailed) as caught:
        fetch(images[3], base_dir, host)
    actual = hashlib.md5(b"R" * 4096).hexdigest()
    assert "expected md5 %s, got %s" % ("0" * 32, actual) in caught.value.msg
    assert leftovers(base_dir) == []


def test_sha256_checksum_is_verified(images, base_dir, host):
    images[3]["checksum"] = hashlib.sha256(b"R" * 4096).hexdigest()
    fetch(images[3], base_dir, host)
    images[3]["checksum"] = "f" * 64
    os.unlink(base_dir / "base")
    with pytest.raises(DownloadFailed, match="expected sha256 f{64}"):
        fetch(images[3], base_dir, host)


def test_truncated_source_is_refused(images, base_dir, host, tmp_path):
    short = tmp_path / "short.img"
    short.write_bytes(b"R" * 1000)
    images[3]["location"] = str(short)
    with pytest.raises(DownloadFailed, match="truncated download .* got 1000 bytes, the catalog records 4096"):
        fetch(images[3], base_dir, host)
    assert leftovers(base_dir) == []


def test_longer_source_stops_at_the_catalog_size(images, base_dir, host):
    images[3]["size"] = 100
    with pytest.raises(DownloadFailed, match="longer than its catalog size of 100 bytes"):
        fetch(images[3], base_dir, host)
    assert leftovers(base_dir) == []


def test_image_without_checksum_is_never_fetched(images, base_dir, host):
    images[3]["checksum"] = None
    with pytest.raises(DownloadFailed, match="no checksum"):
        fetch(images[3], base_dir, host)
    assert leftovers(base_dir) == []


def test_missing_location_names_location_and_reason(images, base_dir, host):
    images[3]["location"] = "file:///nonexistent/raw.img"
    with pytest.raises(SourceFailed, match="cannot read image location file:///nonexistent/raw.img: No such file"):
        fetch(images[3], base_dir, host, image_dirs=["/nonexistent"])
    assert leftovers(base_dir) == []


def test_full_disk_while_writing_fails_cleanly(images, base_dir, host, monkeypatch):
    def no_space(out, chunk, target, sync=False):
        raise DownloadFailed("cannot write %s: %s" % (target, os.strerror(errno.ENOSPC)))
    monkeypatch.setattr(fetch_module, "_write_chunk", no_space)
    with pytest.raises(DownloadFailed, match="base.part: No space left on device"):
        fetch(images[3], base_dir, host)
    assert leftovers(base_dir) == []


def test_failed_conversion_leaves_no_part_and_no_converted(images, base_dir, host):
    host.fail["convert"] = (1, "qemu-img: error while writing: No space left on device")
    with pytest.raises(CommandFailed, match="No space left on device"):
        fetch(images[2], base_dir, host)
    assert leftovers(base_dir) == []


@pytest.mark.parametrize("data, disk_format, reason", [
    (qcow2_bytes(b"D", backing="/etc/shadow"), "qcow2", "its header names a backing file \\(/etc/shadow\\)"),
    (qcow2_bytes(b"D", backing="/etc/shadow"), "raw", "its header names a backing file"),
    (qcow2_bytes(b"D", data_file=True), "qcow2", "names an external data file"),
    (qcow2_bytes(b"D"), "raw", "its header says qcow2 but the catalog declares disk_format raw"),
    (b"R" * 512, "qcow2", "its header says raw but the catalog declares disk_format qcow2"),
    (b"# Disk DescriptorFile\nRW 8 FLAT \"/etc/shadow\" 0\n", "raw", "its header says vmdk"),
    (qcow2_bytes(qcow2_bytes(b"inner", backing="/etc/shadow")), "qcow2", "once converted to raw"),
])
def test_unsafe_images_are_refused_before_qemu_img_probes_them(images, base_dir, host, tmp_path, data,
                                                               disk_format, reason):
    crafted = tmp_path / "crafted"
    crafted.write_bytes(data)
    image = record(images[3]["id"], str(crafted), data, disk_format)
    with pytest.raises(ImageRefused, match=reason):
        fetch(image, base_dir, host)
    assert leftovers(base_dir) == []
    if "converted" not in reason:
        assert not host.commands("info")  # refused on its first bytes


def test_qemu_img_info_backing_file_or_format_is_refused_too(images, base_dir, host, monkeypatch):
    """Second opinion: what qemu-img itself reports is checked as well."""
    original = host._info

    def info_with_backing(args):
        rc, out, err = original(args)
        return rc, out.replace("}", ', "full-backing-filename": "/etc/shadow"}'), err
    monkeypatch.setattr(host, "_info", info_with_backing)
    with pytest.raises(ImageRefused, match="qemu-img info names a backing file \\(/etc/shadow\\)"):
        fetch(images[3], base_dir, host)
    monkeypatch.setattr(host, "_info", lambda args: (0, '{"format": "vmdk"}', ""))
    with pytest.raises(ImageRefused, match="qemu-img sees format vmdk"):
        fetch(images[3], base_dir, host)
    assert leftovers(base_dir) == []


# --- reading a location: what check_location resolved, and nothing it did not -------------------

def test_a_symlink_put_in_place_after_the_check_is_not_followed(images, base_dir, host, tmp_path):
    raw = tmp_path / "store" / "raw.img"
    source = check_location(str(raw), [str(tmp_path / "store")])
    raw.unlink()
    raw.symlink_to("/etc/hostname")
    with pytest.raises(SourceFailed, match="cannot read image location .*raw.img: Too many levels of symbolic links"):
        list(read_chunks(source, SourceOptions()))


def test_a_fifo_is_not_read(tmp_path):
    fifo = tmp_path / "store.fifo"
    os.mkfifo(fifo)
    with pytest.raises(SourceFailed, match="not a regular file"):
        list(read_chunks(str(fifo), SourceOptions()))


class Redirects(http.server.BaseHTTPRequestHandler):
    TARGETS = {"/to-ftp": "ftp://127.0.0.1/disk", "/to-file": "file:///etc/shadow", "/to-http": "/disk"}

    def do_GET(self):
        if self.path in self.TARGETS:
            self.send_response(302)
            self.send_header("Location", self.TARGETS[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"DISK")

    def log_message(self, *args):
        pass


@pytest.fixture
def redirecting_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirects)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("path", ["/to-ftp", "/to-file"])
def test_redirects_only_lead_to_allowed_schemes(redirecting_server, path):
    options = SourceOptions(timeout=5, use_proxy=False, schemes=("http", "https"))
    with pytest.raises(SourceFailed, match="(redirects to ftp://.* is not an allowed scheme|Redirection to url .file:///etc/shadow. is not allowed)"):
        list(read_chunks(redirecting_server + path, options))
    only_https = SourceOptions(timeout=5, use_proxy=False, schemes=("https",))
    with pytest.raises(SourceFailed, match="http:// is not an allowed scheme \\(allowed: https\\)"):
        list(read_chunks(redirecting_server + "/to-http", only_https))
    allowed = list(read_chunks(redirecting_server + "/to-http", SourceOptions(timeout=5, use_proxy=False)))
    assert allowed == [(b"DISK", 4)]


# --- format sniffing ---------------------------------------------------------------------------

def test_qcow2_backing_file_and_data_file_are_read_from_the_header(tmp_path):
    crafted = tmp_path / "crafted.qcow2"
    crafted.write_bytes(qcow2_bytes(backing="/etc/shadow"))
    assert sniff_file(str(crafted)).backing_file == "/etc/shadow"
    assert qcow2_backing_file(str(crafted)) == "/etc/shadow"
    crafted.write_bytes(qcow2_bytes(data_file=True))
    sniffed = sniff_file(str(crafted))
    assert (sniffed.format, sniffed.backing_file, sniffed.has_data_file) == ("qcow2", None, True)


@pytest.mark.parametrize("head, expected", [
    (b"KDMV\x01\x00\x00\x00", "vmdk"),
    (b"# Disk DescriptorFile\nversion=1\n", "vmdk"),
    (b"QED\x00", "qed"),
    (b"vhdxfile", "vhdx"),
    (b"conectix", "vpc"),
    (b"\x7fELF", "raw"),
    (b"", "raw"),
])
def test_formats_that_can_name_other_files_are_recognised(head, expected):
    assert sniff_bytes(head).format == expected


def test_oversized_backing_name_is_corrupt_and_missing_file_has_no_backing(tmp_path):
    corrupt = tmp_path / "corrupt.qcow2"
    corrupt.write_bytes(qcow2_bytes(backing="x" * 2000))
    assert sniff_file(str(corrupt)).format == "qcow2-corrupt"
    assert qcow2_backing_file(str(tmp_path / "missing")) is None
    assert qcow2_backing_file(str(tmp_path)) is None  # a directory
