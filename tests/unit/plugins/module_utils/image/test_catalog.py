import json

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import (
    Catalog, ImageRecord, catalog_records, check_location, load_catalog_file, parse_catalog)

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
    with pytest.raises(InvalidInput, match="images: image id %s appears twice" % KERNEL_ID):
        Catalog(images + [dict(images[0])])


@pytest.mark.parametrize("field, value, expected", [  # the messages of common/validate.py
    ("id", "not-a-uuid", "images\\[0\\] id 'not-a-uuid': expected a UUID"),
    ("disk_format", "vmdk", "disk_format 'vmdk': expected one of raw, qcow2, aki, ari, ami"),
    ("status", "gone", "status 'gone': expected one of"),
    ("size", -1, "size -1: expected a whole number"),
    ("min_ram", "512", "min_ram '512': expected a whole number"),
    ("checksum", "xyz", "checksum 'xyz': expected 32 \\(md5\\)"),
    ("location", "ftp://x/y", "location 'ftp://x/y': expected an absolute path"),
    ("location", "images/disk.qcow2", "location 'images/disk.qcow2': expected an absolute path"),
    ("location", "file://otherhost/disk", "expected an absolute path or a file://"),
    ("location", "/srv/images/disk\nx", "expected an absolute path"),
    ("is_public", "yes", "is_public 'yes': expected true or false"),
    ("properties", ["x"], "properties: expected a mapping, got \\['x'\\]"),
    ("name", "two\nlines", "name 'two.+lines': expected text on one line"),
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
    with pytest.raises(InvalidInput, match="properties.kernel_id 'vmlinuz': expected a UUID"):
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


# --- the catalog's forms -----------------------------------------------------------------------

@pytest.mark.parametrize("name, text", [
    ("list.yml", "- {record}\n"),
    ("mapping.yml", "images:\n  - {record}\n"),
    ("list.json", "[{record}]"),
    ("mapping.json", '{{"images": [{record}]}}'),
])
def test_each_documented_form_loads_from_a_file_and_from_text(tmp_path, images, name, text):
    content = text.format(record=json.dumps(images[0]))
    path = tmp_path / name
    path.write_text(content)
    assert list(load_catalog_file(str(path)).images) == [images[0]["id"]]
    assert list(parse_catalog(content, origin=name).images) == [images[0]["id"]]


def test_empty_lists_are_empty_catalogs():
    assert parse_catalog("[]").images == {}
    assert parse_catalog("images: []\n").images == {}


@pytest.mark.parametrize("text, holds", [
    ("", "nothing"),
    ("{}", "an empty mapping"),
    ("images: 3\n", "images: 3"),
    ("images:\n", "images: None"),
    ("catalog: []\n", "a mapping with the keys catalog"),
    ("images: []\nnote: extra\n", "a mapping with the keys images, note"),
    ("just text\n", "'just text'"),
    ("42\n", "42"),
])
def test_any_other_shape_is_refused_naming_the_file_and_the_accepted_forms(tmp_path, text, holds):
    path = tmp_path / "odd.yml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        load_catalog_file(str(path))
    assert caught.value.msg == (
        "catalog %s is not a catalog (it holds %s); expected a list of image records, or a mapping with the one "
        "key 'images' holding that list (YAML or JSON)" % (path, holds))


def test_catalog_records_takes_a_parsed_document(images):
    assert catalog_records(images) is images
    assert catalog_records({"images": images}) is images
    with pytest.raises(InvalidInput, match="catalog inventory is not a catalog"):
        catalog_records({"images": images, "other": 1}, origin="inventory")


# --- where an image may be read from -----------------------------------------------------------

@pytest.fixture
def image_dir(tmp_path):
    """/<tmp>/images with disk.img in it, /<tmp>/secret beside it, and a symlink inside pointing out."""
    images = tmp_path / "images"
    (images / "sub").mkdir(parents=True)
    (images / "disk.img").write_bytes(b"D")
    (images / "sub" / "nested.img").write_bytes(b"N")
    (tmp_path / "secret").write_text("host secret\n")
    (images / "escape.img").symlink_to(tmp_path / "secret")
    (images / "inner-link.img").symlink_to(images / "disk.img")
    return images


@pytest.mark.parametrize("location, expected", [
    ("{images}/disk.img", "{images}/disk.img"),
    ("file://{images}/disk.img", "{images}/disk.img"),
    ("file://localhost{images}/sub/nested.img", "{images}/sub/nested.img"),
    ("file://{images}/sub/../disk.img", "{images}/disk.img"),
    ("file://{images}/d%69sk.img", "{images}/disk.img"),
    ("{images}/inner-link.img", "{images}/disk.img"),  # a symlink that stays inside is read where it leads
    ("http://images.example/disk.qcow2", "http://images.example/disk.qcow2"),
    ("https://images.example/disk.qcow2", "https://images.example/disk.qcow2"),
])
def test_allowed_locations_resolve_to_what_is_read(image_dir, location, expected):
    found = check_location(location.format(images=image_dir), [str(image_dir)])
    assert found == expected.format(images=image_dir)


@pytest.mark.parametrize("location, rule", [
    ("/etc/shadow", "resolves to /etc/shadow: local image files are read only from inside {images}"),
    ("file:///etc/shadow", "resolves to /etc/shadow: local image files are read only from inside"),
    ("{images}/../secret", "resolves to {tmp}/secret: local image files are read only from inside"),
    ("file://{images}/sub/../../secret", "resolves to {tmp}/secret"),
    ("file://{images}/%2e%2e/secret", "resolves to {tmp}/secret"),
    ("{images}/escape.img", "resolves to {tmp}/secret"),
    ("{images}", "resolves to {images}: local image files are read only from inside"),  # the directory itself
    ("{images}-other/disk.img", "resolves to {images}-other/disk.img"),  # a sibling sharing the prefix
    ("ftp://images.example/disk.qcow2", "expected an absolute path or a file://, http:// or https:// URL"),
    ("data:application/octet-stream;base64,AAAA", "expected an absolute path or a file://"),
    ("gopher://images.example/disk", "expected an absolute path or a file://"),
    ("file://otherhost/srv/disk.img", "expected an absolute path or a file://"),
    ("disk.img", "expected an absolute path or a file://"),
])
def test_locations_outside_the_dirs_or_with_other_schemes_are_refused(image_dir, location, rule):
    names = {"images": str(image_dir), "tmp": str(image_dir.parent)}
    with pytest.raises(InvalidInput) as caught:
        check_location(location.format(**names), [str(image_dir)], what="images[2] (6172f6e7) location")
    assert caught.value.msg.startswith("images[2] (6172f6e7) location %r" % location.format(**names))
    assert rule.format(**names) in caught.value.msg


def test_schemes_come_only_from_the_allowed_list_and_local_files_need_a_dir(image_dir):
    with pytest.raises(InvalidInput, match="http:// is not an allowed scheme here \\(allowed: https\\)"):
        check_location("http://images.example/disk", [], schemes=["https"])
    with pytest.raises(InvalidInput, match="https:// is not an allowed scheme here \\(allowed: none\\)"):
        check_location("https://images.example/disk", [str(image_dir)], schemes=[])
    with pytest.raises(InvalidInput, match="local image files are refused: no image directory is configured"):
        check_location(str(image_dir / "disk.img"), [])
    with pytest.raises(InvalidInput, match="image_dirs\\[0\\] 'images': expected an absolute path"):
        check_location(str(image_dir / "disk.img"), ["images"])


def test_image_dirs_are_compared_by_their_real_paths(image_dir, tmp_path):
    (tmp_path / "link-to-images").symlink_to(image_dir)
    assert check_location(str(image_dir / "disk.img"), [str(tmp_path / "link-to-images")]) == str(image_dir / "disk.img")
    assert check_location(str(tmp_path / "link-to-images" / "disk.img"), [str(image_dir)]) == str(image_dir / "disk.img")
