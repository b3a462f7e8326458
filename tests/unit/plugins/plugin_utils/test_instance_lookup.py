"""plugin_utils/instance_lookup.py: which instances a name means, and the action checked for all of them
before any host acts (the batch is refused whole)."""

import pytest

from ansible_collections.novalite.compute.plugins.action import instance_lookup as action
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.modules import instance_lookup as documentation
from ansible_collections.novalite.compute.plugins.plugin_utils.instance_lookup import (
    UnknownInstance, lookup, snapshot_names)
from ansible_collections.novalite.compute.plugins.plugin_utils.request import find_flavor
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented
from ansible_collections.novalite.compute.tests.unit.plugins.plugin_utils.test_request import (
    IMAGE_FIELDS, KERNEL, RAMDISK)

UUIDS = ["11111111-1111-4111-8111-11111111111%d" % n for n in range(5)]
IMAGE = IMAGE_FIELDS["id"]
OTHER = "22222222-0000-4000-8000-000000000001"


def rec(index, display_name, vm_state="active", project="p1", task_state=None):
    return {"uuid": UUIDS[index], "name": "instance-0000000%d" % index, "display_name": display_name,
            "project_id": project, "vm_state": vm_state, "task_state": task_state, "flavor": find_flavor("m1.tiny"),
            "image_ref": IMAGE}


def hostvars(**hosts):
    return {host: {"ansible_local": {"novalite": {"schema_version": 1, "instances": {
        r["uuid"]: dict(r, host=host) for r in records}}}} for host, records in hosts.items()}


HOSTVARS = hostvars(compute1=[rec(0, "web-1"), rec(1, "web-10"), rec(2, "webby")],
                    compute2=[rec(3, "web-2", vm_state="stopped"), rec(4, "web-3", project="p2")])


def args(name="web", action_name=None, **extra):
    values = {key: spec.get("default") for key, spec in action.ARGUMENT_SPEC.items()}
    values.update(name=name, project_id="p1", hosts=["compute1", "compute2"], action=action_name, **extra)
    return values


def test_documentation_matches_the_action_argument_spec():
    assert_documented(type("Doc", (), dict(DOCUMENTATION=documentation.DOCUMENTATION, EXAMPLES=documentation.EXAMPLES,
                                           RETURN=documentation.RETURN, ARGUMENT_SPEC=action.ARGUMENT_SPEC)))


def test_a_name_means_itself_and_its_batch_in_the_project_and_a_uuid_means_that_instance():
    found = lookup(args(), HOSTVARS)
    assert [r["display_name"] for r in found["instances"]] == ["web-1", "web-10", "web-2"]
    assert found["hosts_used"] == ["compute1", "compute2"]
    assert [r["uuid"] for r in found["by_host"]["compute2"]] == [UUIDS[3]]
    assert [r["display_name"] for r in lookup(args(name=UUIDS[2]), HOSTVARS)["instances"]] == ["webby"]
    assert [r["display_name"] for r in lookup(args(name="web-1"), HOSTVARS)["instances"]] == ["web-1"]


def test_an_unknown_name_is_refused_naming_the_project_and_the_hosts():
    with pytest.raises(UnknownInstance, match="no instance named db .* in project p1 on compute1, compute2"):
        lookup(args(name="db"), HOSTVARS)


def test_a_batch_with_one_instance_that_may_not_do_the_action_is_refused_whole():
    with pytest.raises(InvalidInput, match=r"cannot pause web-2 \(instance-00000003, uuid .*\): its vm_state is "
                                           r"stopped; pause needs vm_state active"):
        lookup(args(action_name="pause"), HOSTVARS)
    found = lookup(args(action_name="stop"), HOSTVARS)
    assert found["to_do"] == [UUIDS[0], UUIDS[1]] and found["unchanged"] == [UUIDS[3]]
    hard = lookup(args(action_name="reboot", reboot_type="hard"), HOSTVARS)
    assert len(hard["to_do"]) == 3


def test_a_rebuild_checks_the_image_for_every_instance_and_gives_the_records_its_fields():
    images = [dict(IMAGE_FIELDS, location="https://images.example/disk"),
              dict(IMAGE_FIELDS, id=OTHER, name="big", min_disk=10, location="https://images.example/big",
                   properties={}),
              {"id": KERNEL, "name": "k", "disk_format": "aki", "location": "https://images.example/k"},
              {"id": RAMDISK, "name": "r", "disk_format": "ari", "location": "https://images.example/r"}]
    found = lookup(args(action_name="rebuild", images=images), HOSTVARS)
    assert {r["image_ref"] for r in found["instances"]} == {IMAGE}
    with pytest.raises(NovaliteError, match="flavor m1.tiny has a 0 GB root disk; image .* needs at least 10 GB"):
        lookup(args(action_name="rebuild", image="big", images=images), HOSTVARS)
    images[1]["min_disk"] = 0
    rebuilt = lookup(args(action_name="rebuild", image="big", images=images), HOSTVARS)["instances"]
    assert {(r["image_ref"], r["image_name"], r["kernel_id"]) for r in rebuilt} == {(OTHER, "big", None)}


def test_snapshot_names():
    one, two = rec(0, "web-1"), rec(1, "web-2")
    assert snapshot_names([one], "golden") == {UUIDS[0]: "golden"}
    assert snapshot_names([one, two], "golden") == {UUIDS[0]: "golden-web-1", UUIDS[1]: "golden-web-2"}
    assert snapshot_names([one]) == {UUIDS[0]: "web-1-snapshot"}
    assert lookup(args(name="web-1", action_name="snapshot", image_name="g"), HOSTVARS)["snapshot_names"] == {
        UUIDS[0]: "g"}
