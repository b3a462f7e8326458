import json

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import Catalog, load_catalog_file
from ansible_collections.novalite.compute.plugins.module_utils.image.image_record import ImageRecord

from .conftest import IMAGE_ID, KERNEL_ID


def test_find_by_id_by_uppercase_id_and_by_unique_name(images):
    catalog = Catalog(images)
    assert catalog.find(IMAGE_ID).name == "disk"
    assert catalog.find(IMAGE_ID.upper()).id == IMAGE_ID
    assert catalog.find("kernel").id == KERNEL_ID


def test_find_unknown_names_the_ref_and_lists_known_images(images):
    with pytest.raises(InvalidInput, match=r"image 'nope' is not in images \(known: .*kernel"):
        Catalog(images).find("nope")


def test_ambiguous_name_is_refused(images):
    images[1]["name"] = "kernel"
    with pytest.raises(InvalidInput, match="ambiguous"):
        Catalog(images).find("kernel")


def test_duplicate_id_is_refused(images):
    with pytest.raises(InvalidInput, match="listed twice"):
        Catalog(images + [dict(images[0])])


@pytest.mark.parametrize("field, value, expected", [
    ("id", "not-a-uuid", "id 'not-a-uuid' is not a uuid"),
    ("disk_format", "vmdk", "disk_format 'vmdk' is not one of raw, qcow2, aki, ari, ami"),
    ("status", "gone", "status 'gone' is not one of"),
    ("size", -1, "size -1 must be a whole number"),
    ("min_ram", "512", "min_ram '512' must be a whole number"),
    ("checksum", "xyz", "checksum 'xyz' must be 32 \\(md5\\)"),
    ("location", "ftp://x/y", "location 'ftp://x/y' must be an absolute path"),
    ("is_public", "yes", "is_public 'yes' must be true or false"),
    ("properties", ["x"], "properties \\['x'\\] must be a mapping"),
])
def test_bad_field_is_named_with_what_was_expected(images, field, value, expected):
    images[0][field] = value
    with pytest.raises(InvalidInput, match=expected):
        Catalog(images)


def test_checksum_algorithm_follows_length_or_glance_multihash(images):
    assert ImageRecord(images[0]).checksum_algorithm == "md5"
    images[0]["checksum"] = "ab" * 32
    assert ImageRecord(images[0]).checksum_algorithm == "sha256"
    images[0].update(os_hash_algo="sha512", os_hash_value="CD" * 64)
    record = ImageRecord(images[0])
    assert (record.checksum_algorithm, record.checksum) == ("sha512", "cd" * 64)
    images[0]["os_hash_algo"] = "sha256"
    with pytest.raises(InvalidInput, match="does not fit a checksum of 128 hex digits"):
        ImageRecord(images[0])


def test_kernel_properties_are_canonical_uuids(images):
    images[2]["properties"]["kernel_id"] = KERNEL_ID.upper()
    assert ImageRecord(images[2]).kernel_id == KERNEL_ID
    images[2]["properties"]["kernel_id"] = "vmlinuz"
    with pytest.raises(InvalidInput, match="properties.kernel_id 'vmlinuz' is not a uuid"):
        ImageRecord(images[2])


def test_qemu_format_of_ami_style_parts_is_raw(images):
    assert [ImageRecord(r).qemu_format for r in images] == ["raw", "raw", "qcow2", "raw"]


def test_load_yaml_mapping_and_json_list(tmp_path, images):
    yaml_path = tmp_path / "catalog.yml"
    yaml_path.write_text("images:\n" + "".join("- %s\n" % json.dumps(r) for r in images))
    json_path = tmp_path / "catalog.json"
    json_path.write_text(json.dumps(images))
    assert sorted(load_catalog_file(str(yaml_path)).images) == sorted(load_catalog_file(str(json_path)).images)


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(InvalidInput, match="catalog /nonexistent.yml cannot be read"):
        load_catalog_file("/nonexistent.yml")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(InvalidInput, match="broken.json is not valid JSON"):
        load_catalog_file(str(broken))
    not_a_list = tmp_path / "x.yml"
    not_a_list.write_text("images: 3\n")
    with pytest.raises(InvalidInput, match="expected a list of image records"):
        load_catalog_file(str(not_a_list))
