import pytest

from ansible_collections.novalite.compute.plugins.module_utils.image.format_sniff import (
    qcow2_backing_file, sniff_bytes, sniff_file)

from .conftest import qcow2_bytes


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
