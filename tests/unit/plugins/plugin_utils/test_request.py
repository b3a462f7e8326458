"""plugin_utils/request.py: flavors, quotas, names and the create request, before anything is allocated."""

import base64
import random
import re
import uuid

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import ImageRecord
from ansible_collections.novalite.compute.plugins.plugin_utils.request import (
    FlavorTooSmall, ImageTooLarge, InstanceRequest, QuotaExceeded, check_injected_files, check_instances,
    check_metadata, check_request, check_server_group, display_names, effective_quotas, encode_user_data, find_flavor, flavor_table,
    instance_name_from_id, new_reservation_id, plan_request, project_usage, sanitize_hostname)


# --- flavors ---

def test_m1_tiny_is_novas():
    tiny = find_flavor("m1.tiny")
    assert (tiny["memory_mb"], tiny["vcpus"], tiny["root_gb"], tiny["ephemeral_gb"], tiny["swap"]) == (512, 1, 0, 0, 0)
    assert (tiny["rxtx_factor"], tiny["flavorid"], tiny["id"]) == (1.0, "1", 4)


def test_all_five_defaults_and_lookup_by_flavorid():
    assert sorted(flavor_table()) == ["m1.large", "m1.medium", "m1.small", "m1.tiny", "m1.xlarge"]
    assert find_flavor("5")["name"] == "m1.xlarge"


def test_user_flavors_add_and_override():
    table = flavor_table({"m1.tiny": {"memory_mb": 256, "vcpus": 1, "root_gb": 1},
                          "c1.big": {"memory_mb": 1024, "vcpus": 4, "root_gb": 10}})
    assert table["m1.tiny"]["memory_mb"] == 256
    assert table["c1.big"]["flavorid"] == "c1.big"


def test_unknown_flavor_names_the_known_ones():
    with pytest.raises(InvalidInput, match="unknown flavor 'm9.huge'.*m1.tiny"):
        find_flavor("m9.huge")


@pytest.mark.parametrize("fields, message", [
    ({"memory_mb": 0, "vcpus": 1, "root_gb": 0}, "memory_mb 0: expected a whole number from 1"),
    ({"memory_mb": 512, "vcpus": "two", "root_gb": 0}, "vcpus"),
    ({"memory_mb": 512, "vcpus": 1, "root_gb": 0, "colour": "red"}, "unknown field.*colour"),
])
def test_bad_user_flavor_is_refused(fields, message):
    with pytest.raises(InvalidInput, match=message):
        flavor_table({"bad": fields})


def test_disabled_flavor_is_refused():
    with pytest.raises(InvalidInput, match="disabled"):
        find_flavor("old", {"old": {"memory_mb": 512, "vcpus": 1, "root_gb": 0, "disabled": True}})


# --- quotas ---

TINY = {"vcpus": 1, "memory_mb": 512}


def record(project, vm_state="active", vcpus=1, ram=512):
    return {"project_id": project, "vm_state": vm_state, "flavor": {"vcpus": vcpus, "memory_mb": ram}}


def test_usage_counts_the_projects_live_instances_only():
    records = [record("p1"), record("p1", vcpus=2, ram=2048), record("p2"), record("p1", vm_state="deleted")]
    assert project_usage(records, "p1") == {"instances": 2, "cores": 3, "ram": 2560}


def test_instances_quota_names_resource_and_numbers():
    limits = effective_quotas({"instances": 3})
    with pytest.raises(QuotaExceeded, match="instances in project p1: requested 2, in use 2, limit 3"):
        check_instances({"instances": 2, "cores": 2, "ram": 1024}, limits, 2, TINY, "p1")


def test_cores_and_ram_quotas():
    limits = effective_quotas()
    check_instances({"instances": 0, "cores": 0, "ram": 0}, limits, 10, TINY, "p")
    with pytest.raises(QuotaExceeded, match="cores"):
        check_instances({"instances": 0, "cores": 0, "ram": 0}, limits, 3, {"vcpus": 8, "memory_mb": 1}, "p")
    with pytest.raises(QuotaExceeded, match="ram"):
        check_instances({"instances": 0, "cores": 0, "ram": 51000}, limits, 1, TINY, "p")


def test_unlimited_quota():
    limits = effective_quotas({"instances": -1})
    check_instances({"instances": 500, "cores": 0, "ram": 0}, limits, 1, TINY, "p")


def test_metadata_items_and_lengths():
    limits = effective_quotas({"metadata_items": 2})
    check_metadata({"a": "1", "b": "2"}, limits, "p")
    with pytest.raises(QuotaExceeded, match="metadata_items"):
        check_metadata({"a": "1", "b": "2", "c": "3"}, limits, "p")
    with pytest.raises(QuotaExceeded, match="at most 255"):
        check_metadata({"k": "v" * 256}, limits, "p")


def test_injected_files_count_and_sizes():
    limits = effective_quotas()
    check_injected_files([{"path": "/etc/motd", "contents": "hi"}], limits, "p")
    with pytest.raises(QuotaExceeded, match="injected_files "):
        check_injected_files([{"path": "/f%d" % i, "contents": ""} for i in range(6)], limits, "p")
    with pytest.raises(QuotaExceeded, match="injected_file_content_bytes"):
        check_injected_files([{"path": "/big", "contents": "x" * 10241}], limits, "p")


def test_unknown_quota_name_is_refused():
    with pytest.raises(QuotaExceeded, match="unknown quota 'gpus'"):
        effective_quotas({"gpus": 1})


# --- names ---

def test_instance_name_is_novas_template():
    assert instance_name_from_id(10) == "instance-0000000a"
    assert instance_name_from_id(42) == "instance-0000002a"


def test_reservation_id_shape():
    rid = new_reservation_id(random.Random(1))
    assert rid.startswith("r-") and len(rid) == 10 and rid[2:].isalnum() and rid[2:].islower()


@pytest.mark.parametrize("display, hostname", [
    ("test", "test"), ("My Web_Server", "my-web-server"), ("-x.y-", "x-y"), ("a<b>&c", "abc")])
def test_sanitize_hostname(display, hostname):
    assert sanitize_hostname(display) == hostname


def test_name_without_usable_characters_is_refused():
    with pytest.raises(InvalidInput, match="no usable hostname"):
        sanitize_hostname("***")


def test_display_names_for_a_batch():
    assert display_names("web", 1) == ["web"]
    assert display_names("web", 3) == ["web-1", "web-2", "web-3"]


# --- the request ---

KERNEL = "b6aa0ae4-dadf-5217-b04f-58142460a755"
RAMDISK = "685b3b11-472e-5ec5-8ef4-c945454fac3f"


IMAGE_FIELDS = {"id": "66c50770-21a4-46ce-85ee-392f29b05081", "name": "cirros-test-image", "status": "active",
                "disk_format": "ami", "container_format": "ami", "size": 25165824, "min_ram": 0, "min_disk": 0,
                "properties": {"kernel_id": KERNEL, "ramdisk_id": RAMDISK}}


def image(**fields):
    return ImageRecord(dict(IMAGE_FIELDS, **fields))


def request(name="test", count=1, flavor="m1.tiny", **kwargs):
    kwargs.setdefault("image", image())
    return InstanceRequest(name, count, find_flavor(flavor), project_id="p1", user_id="u1", **kwargs)


def plan(req, records=(), reserved=(), limits=None):
    return plan_request(req, list(records), list(reserved), limits or effective_quotas(),
                        rng=random.Random(7), new_uuid=uuid.uuid4)


def test_new_record_has_novas_fields():
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
    limits = effective_quotas({"instances": 1})
    _existing, made = plan(request(), limits=limits)
    assert plan(request(), records=made, limits=limits)[1] == []
    with pytest.raises(QuotaExceeded, match="instances"):
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


@pytest.mark.parametrize("name, message", [
    ("web\nserver", "expected text on one line"),
    ("tab\there", "expected text on one line"),
    ("", "name is empty"),
    ("x" * 256, "at most 255"),
], ids=["newline", "control character", "empty", "too long"])
def test_a_display_name_is_one_line_of_at_most_255_characters(name, message):
    with pytest.raises(InvalidInput, match=message):
        request(name=name)


def test_a_batch_name_must_stay_within_255_characters_too():
    request(name="x" * 255)
    with pytest.raises(InvalidInput, match="at most 255"):
        request(name="x" * 254, count=2)  # x...x-1 is 256 characters


@pytest.mark.parametrize("kwargs, message", [
    ({"count": 0}, "count 0: expected a whole number of at least 1"),
    ({"security_groups": ["web", "bad name"]}, "security group 'bad name'"),
    ({"metadata": ["not", "a", "mapping"]}, "metadata: expected a mapping"),
], ids=["count", "security group", "metadata"])
def test_other_request_fields_are_checked_with_the_common_rules(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        request(**kwargs)


def test_quota_limits_and_flavor_flags_are_checked():
    with pytest.raises(InvalidInput, match="quota instances 'ten'"):
        effective_quotas({"instances": "ten"})
    with pytest.raises(InvalidInput, match="disabled 'no': expected true or false"):
        flavor_table({"odd": {"memory_mb": 512, "vcpus": 1, "root_gb": 0, "disabled": "no"}})


# --- server groups ---

def grouped(group="web", policy="anti-affinity", count=2, hosts=("compute1", "compute2"), records=()):
    req = request(count=count, group=group, group_policy=policy)
    existing, missing = check_request(req, list(records), effective_quotas())
    check_server_group(req, list(records), len(missing), list(hosts))
    return req


def test_the_group_and_its_policy_go_into_the_new_records():
    req = grouped()
    _existing, new = plan(req)
    assert {(r["server_group"], r["server_group_policy"]) for r in new} == {("web", "anti-affinity")}


def test_anti_affinity_with_more_members_than_hosts_is_refused_naming_the_group_and_the_host_count():
    with pytest.raises(InvalidInput, match=r"server group web \(anti-affinity\) would have 3 members, and there are "
                                           r"2 compute hosts \(compute1, compute2\)"):
        grouped(count=3)
    member = {"uuid": "m", "project_id": "p1", "display_name": "old", "vm_state": "active",
              "flavor": find_flavor("m1.tiny"), "server_group": "web", "server_group_policy": "anti-affinity"}
    with pytest.raises(InvalidInput, match="would have 3 members"):
        grouped(count=2, records=[member])
    assert grouped(policy="affinity", count=3).group_policy == "affinity"


def test_a_groups_policy_cannot_change_and_is_taken_from_its_members():
    member = {"uuid": "m", "project_id": "p1", "display_name": "old", "vm_state": "active",
              "flavor": find_flavor("m1.tiny"), "server_group": "web", "server_group_policy": "affinity"}
    with pytest.raises(InvalidInput, match="server group web has policy affinity; a group's policy cannot change"):
        grouped(policy="anti-affinity", records=[member])
    assert grouped(policy=None, count=1, records=[member]).group_policy == "affinity"
    with pytest.raises(InvalidInput, match="server group web is new: give its policy"):
        grouped(policy=None)


@pytest.mark.parametrize("kwargs, message", [
    ({"group": "web", "group_policy": "soft-affinity"}, "group_policy 'soft-affinity': expected one of"),
    ({"group_policy": "affinity"}, "group_policy affinity needs a server group"),
    ({"group": "../web", "group_policy": "affinity"}, "group '../web'"),
])
def test_bad_groups_are_refused(kwargs, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        request(**kwargs)


def test_empty_group_answers_are_no_group():
    assert (request(group="", group_policy="").group, request(group="", group_policy="").group_policy) == (None, None)
