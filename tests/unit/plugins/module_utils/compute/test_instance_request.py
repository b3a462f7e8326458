import base64
import random
import uuid

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.compute import quotas
from ansible_collections.novalite.compute.plugins.module_utils.compute.flavors import find_flavor
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_request import (
    FlavorTooSmall, ImageTooLarge, InstanceRequest, encode_user_data, plan_request)
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import ImageRecord

KERNEL = "b6aa0ae4-dadf-5217-b04f-58142460a755"
RAMDISK = "685b3b11-472e-5ec5-8ef4-c945454fac3f"


def image(**fields):
    record = {"id": "66c50770-21a4-46ce-85ee-392f29b05081", "name": "cirros-test-image", "status": "active",
              "disk_format": "ami", "container_format": "ami", "size": 25165824, "min_ram": 0, "min_disk": 0,
              "properties": {"kernel_id": KERNEL, "ramdisk_id": RAMDISK}}
    record.update(fields)
    return ImageRecord(record)


def request(name="test", count=1, flavor="m1.tiny", **kwargs):
    kwargs.setdefault("image", image())
    return InstanceRequest(name, count, find_flavor(flavor), project_id="p1", user_id="u1", **kwargs)


def plan(req, records=(), reserved=(), limits=None):
    return plan_request(req, list(records), list(reserved), limits or quotas.effective_quotas(),
                        rng=random.Random(7), new_uuid=uuid.uuid4)


def test_new_record_has_the_seeds_shape():
    existing, new = plan(request())
    assert existing == []
    [record] = new
    assert record["name"] == "instance-00000001"
    assert record["display_name"] == "test" and record["hostname"] == "test"
    assert record["vm_state"] == "building" and record["power_state"] == 0
    assert record["reservation_id"].startswith("r-")
    assert (record["kernel_id"], record["ramdisk_id"]) == (KERNEL, RAMDISK)
    assert record["flavor"]["name"] == "m1.tiny" and record["host"] is None
    assert uuid.UUID(record["uuid"]).version == 4


def test_ids_follow_every_id_in_use_or_reserved():
    records = [{"id": 9, "project_id": "px", "display_name": "a", "vm_state": "active", "flavor": find_flavor("m1.tiny")}]
    _existing, new = plan(request(count=2), records=records, reserved=[11])
    assert [r["name"] for r in new] == ["instance-0000000c", "instance-0000000d"]
    assert [r["display_name"] for r in new] == ["test-1", "test-2"]


def test_existing_name_is_returned_not_created_again():
    _existing, [first] = plan(request())
    first["host"] = "compute1"
    existing, new = plan(request(), records=[first])
    assert existing == [first] and new == []


def test_growing_a_batch_creates_only_the_missing():
    _existing, made = plan(request(count=2))
    existing, new = plan(request(count=3), records=made)
    assert len(existing) == 2 and [r["display_name"] for r in new] == ["test-3"]


def test_quota_is_checked_only_for_what_is_missing():
    limits = quotas.effective_quotas({"instances": 1})
    _existing, made = plan(request(), limits=limits)
    assert plan(request(), records=made, limits=limits)[1] == []
    with pytest.raises(quotas.QuotaExceeded, match="instances"):
        plan(request(name="other"), records=made, limits=limits)


def test_flavor_below_image_minimums_is_refused():
    with pytest.raises(FlavorTooSmall, match="min_ram"):
        plan(request(image=image(min_ram=1024)))
    with pytest.raises(FlavorTooSmall, match="min_disk"):
        plan(request(image=image(min_disk=1)))


def test_image_larger_than_root_disk_is_refused_unless_root_gb_is_zero():
    big = image(size=30 * 1024 ** 3)
    plan(request(image=big))  # m1.tiny: root_gb 0, the check is skipped as in Nova
    with pytest.raises(ImageTooLarge, match="larger than the 20 GB root disk of flavor m1.small"):
        plan(request(flavor="m1.small", image=big))


def test_inactive_image_is_refused():
    with pytest.raises(InvalidInput, match="not active"):
        plan(request(image=image(status="queued")))


def test_user_data_is_stored_base64_and_limited():
    assert base64.b64decode(encode_user_data("#!/bin/sh\necho hi\n")) == b"#!/bin/sh\necho hi\n"
    assert encode_user_data("") is None
    encode_user_data("x" * 49000)
    with pytest.raises(InvalidInput, match="65535"):
        encode_user_data("x" * 50000)
