"""The controller's half of image_cache: the catalog's forms, confinement on the controller, what is sent."""

import json
import os

import pytest
import yaml

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import CATALOG_FORMS
from ansible_collections.novalite.compute.plugins.module_utils.image.service import ImageCacheRequest
from ansible_collections.novalite.compute.plugins.modules.image_cache import ARGUMENT_SPEC
from ansible_collections.novalite.compute.plugins.plugin_utils.image_delivery import (
    ImageDelivery, controller_image_dirs)
# images is a fixture: imported for pytest, not used by name
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.image.conftest import (  # noqa: F401 pylint: disable=unused-import
    IMAGE_ID, KERNEL_ID, RAMDISK_ID, RAW_IMAGE_ID, images)

ENTRY = {"name": "instance-00000001", "image_id": "disk", "kernel_id": None, "ramdisk_id": None, "root_gb": 0}


def task_args(catalog, **overrides):
    """The task's arguments as validate_argument_spec hands them over (every option, defaults filled)."""
    args = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
    args.update(controller_catalog=str(catalog), instances=[dict(ENTRY)])
    args.update(overrides)
    return args


def write_catalog(path, document):
    path.write_text(json.dumps(document) if path.suffix == ".json" else yaml.safe_dump(document))
    return path


@pytest.fixture
def store(tmp_path, images):  # noqa: F811
    return tmp_path / "store"


@pytest.mark.parametrize("form", ["list", "mapping", "json list"])
def test_every_catalog_form_gives_the_module_the_used_records_and_what_is_sent(store, images, form):  # noqa: F811
    document = {"images": images} if form == "mapping" else images
    catalog = write_catalog(store / ("catalog.json" if form == "json list" else "catalog.yml"), document)
    delivery = ImageDelivery(task_args(catalog))
    assert delivery.image_dirs == [str(store)]
    assert delivery.files == {KERNEL_ID: str(store / "vmlinuz"), RAMDISK_ID: str(store / "initrd"),
                              IMAGE_ID: str(store / "disk.qcow2")}
    module_args = delivery.module_args({"controller_catalog": str(catalog), "controller_image_dirs": [],
                                        "instances": [ENTRY], "lock_timeout": 5})
    assert sorted(module_args) == ["delivered_images", "images", "instances", "lock_timeout"]
    assert module_args["delivered_images"] == sorted([KERNEL_ID, RAMDISK_ID, IMAGE_ID])
    # the used records only: not the raw image
    assert sorted(r["id"] for r in module_args["images"]) == sorted([KERNEL_ID, RAMDISK_ID, IMAGE_ID])
    # the module accepts exactly these records: the same rules on both sides
    host_params = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
    host_params.update(module_args, instances_path="/nonexistent/instances")
    request = ImageCacheRequest(host_params, staging_dir="/nonexistent/tmp")
    assert sorted(request.sources) == sorted(module_args["delivered_images"])
    assert request.sources[IMAGE_ID] == "/nonexistent/tmp/novalite-image-" + IMAGE_ID


@pytest.mark.parametrize("document, holds", [
    ({"images": {"id": "x"}}, "images: {'id': 'x'}"),
    ({"glance": []}, "a mapping with the keys glance"),
    ("just text", "'just text'"),
    (None, "nothing"),
])
def test_an_unknown_shape_names_the_file_and_the_accepted_forms(store, document, holds):
    catalog = write_catalog(store / "catalog.yml", document)
    with pytest.raises(InvalidInput) as caught:
        ImageDelivery(task_args(catalog))
    expected = "catalog %s is not a catalog (it holds %s); expected %s" % (catalog, holds, CATALOG_FORMS)
    assert caught.value.msg == expected


@pytest.fixture
def outside(tmp_path):
    secret = tmp_path / "secret.img"
    secret.write_bytes(b"R" * 4096)
    (tmp_path / "store" / "escape.img").symlink_to(secret)
    return secret


@pytest.mark.parametrize("location", ["{tmp}/secret.img", "file://{tmp}/secret.img", "file://{tmp}/store/../secret.img",
                                      "{tmp}/store/escape.img"])
def test_a_local_location_outside_the_controllers_image_dirs_is_refused(tmp_path, store, images, outside,  # noqa: F811
                                                                       location):
    images[3]["location"] = location.format(tmp=tmp_path)
    catalog = write_catalog(store / "catalog.yml", images)
    with pytest.raises(InvalidInput) as caught:
        ImageDelivery(task_args(catalog, instances=[dict(ENTRY, image_id=RAW_IMAGE_ID)]))
    assert ("instance instance-00000001: image_id %s (rawdisk) location %r resolves to %s: local image files are "
            "read only from inside %s" % (RAW_IMAGE_ID, images[3]["location"], outside, store)) in caught.value.msg
    # another directory on the controller allows it when named
    delivery = ImageDelivery(task_args(catalog, instances=[dict(ENTRY, image_id=RAW_IMAGE_ID)],
                                       controller_image_dirs=[str(tmp_path)]))
    assert delivery.files == {RAW_IMAGE_ID: str(outside)}


def test_an_unused_bad_record_does_not_stop_the_others(tmp_path, store, images, outside):  # noqa: F811
    images[3]["location"] = str(outside)
    assert IMAGE_ID in ImageDelivery(task_args(write_catalog(store / "catalog.yml", images))).files


def test_http_locations_are_left_to_the_host(store, images):  # noqa: F811
    images[2]["location"] = "https://images.example/disk.qcow2"
    delivery = ImageDelivery(task_args(write_catalog(store / "catalog.yml", images)))
    assert sorted(delivery.files) == sorted([KERNEL_ID, RAMDISK_ID])
    assert delivery.module_args({"instances": [ENTRY]})["delivered_images"] == sorted([KERNEL_ID, RAMDISK_ID])
    with pytest.raises(InvalidInput, match="https:// is not an allowed scheme here \\(allowed: http\\)"):
        ImageDelivery(task_args(store / "catalog.yml", allowed_schemes=["http"]))


def test_state_absent_reads_no_image(store, images):  # noqa: F811
    catalog = write_catalog(store / "catalog.yml", images)
    delivery = ImageDelivery(task_args(catalog, state="absent", instances=[{"name": "instance-00000001"}]))
    assert delivery.files == {} and delivery.module_args({"state": "absent"}) == {"state": "absent"}


def test_transfers_only_what_the_host_needs_and_only_what_this_task_sends(store, images):  # noqa: F811
    delivery = ImageDelivery(task_args(write_catalog(store / "catalog.yml", images)))
    transfers = delivery.transfers([IMAGE_ID, KERNEL_ID])
    assert [(t.image_id, t.path, t.name) for t in transfers] == [
        (IMAGE_ID, str(store / "disk.qcow2"), "novalite-image-" + IMAGE_ID),
        (KERNEL_ID, str(store / "vmlinuz"), "novalite-image-" + KERNEL_ID)]
    with pytest.raises(NovaliteError, match="the host asked for images this task does not send from the controller: "
                                            + RAW_IMAGE_ID):
        delivery.transfers([IMAGE_ID, RAW_IMAGE_ID])


def test_a_file_whose_size_is_not_the_catalogs_is_refused_before_sending(store, images):  # noqa: F811
    delivery = ImageDelivery(task_args(write_catalog(store / "catalog.yml", images)))
    with open(store / "vmlinuz", "ab") as grown:
        grown.write(b"x")
    with pytest.raises(InvalidInput, match="image %s \\(kernel\\): %s on the controller is 1201 bytes, the catalog "
                                           "records 1200; nothing was sent" % (KERNEL_ID, store / "vmlinuz")):
        delivery.transfers([IMAGE_ID, KERNEL_ID])
    os.unlink(store / "vmlinuz")
    with pytest.raises(InvalidInput, match="cannot be read: No such file or directory; nothing was sent"):
        delivery.transfers([KERNEL_ID])


def test_controller_image_dirs_are_absolute():
    assert controller_image_dirs("/srv/images/catalog.yml", ["/srv/more/"]) == ["/srv/images", "/srv/more"]
    with pytest.raises(InvalidInput, match="controller_image_dirs\\[0\\] 'images': expected an absolute path"):
        controller_image_dirs("/srv/images/catalog.yml", ["images"])
