"""The controller's half of a snapshot: the catalog record Nova would make, the fetched file checked
and placed, and the catalog rewritten whole under its lock, so that many writers at the same moment
all land and no reader ever sees a torn or partial catalog."""

import json
import multiprocessing
import os
import time
import types
import uuid

import pytest
import yaml

from ansible_collections.novalite.compute.plugins.action import instance_snapshot as action
from ansible_collections.novalite.compute.plugins.doc_fragments.instance_host import ModuleDocFragment as InstanceHost
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import ImageRecord, load_catalog_file
from ansible_collections.novalite.compute.plugins.module_utils.image.snapshot import md5sum
from ansible_collections.novalite.compute.plugins.modules import instance_snapshot as documentation
from ansible_collections.novalite.compute.plugins.plugin_utils.image_upload import (
    CatalogWriter, existing_snapshot, place_image, snapshot_record)
from ansible_collections.novalite.compute.plugins.plugin_utils.request import find_flavor
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented
from ansible_collections.novalite.compute.tests.unit.plugins.plugin_utils.test_request import (
    IMAGE_FIELDS, KERNEL, RAMDISK)

INSTANCE = {"uuid": "11111111-1111-4111-8111-111111111111", "name": "instance-00000001", "display_name": "web",
            "project_id": "p1", "user_id": "u1", "image_ref": IMAGE_FIELDS["id"], "kernel_id": KERNEL,
            "ramdisk_id": RAMDISK, "flavor": find_flavor("m1.small")}


def snapshot(image_id=None, size=3, checksum="0" * 32):
    return {"image_id": image_id or str(uuid.uuid4()), "size": size, "checksum": checksum, "disk_format": "qcow2"}


def write_catalog(path, form="mapping"):
    records = [dict(IMAGE_FIELDS, location="file:///images/disk.qcow2")]
    document = {"images": records} if form == "mapping" else records
    path.write_text(json.dumps(document) if str(path).endswith(".json") else yaml.safe_dump(document))
    return path


def test_documentation_matches_the_action_argument_spec():
    assert_documented(types.SimpleNamespace(DOCUMENTATION=documentation.DOCUMENTATION, EXAMPLES=documentation.EXAMPLES,
                                            RETURN=documentation.RETURN, ARGUMENT_SPEC=action.ARGUMENT_SPEC),
                      fragments=[InstanceHost])


def test_the_record_has_novas_snapshot_properties(tmp_path):
    base = ImageRecord(dict(IMAGE_FIELDS, min_disk=30, min_ram=256))
    taken = snapshot(size=1234, checksum="a" * 32)
    record = snapshot_record(INSTANCE, taken, "web-golden", str(tmp_path / "catalog.yml"), base=base)
    assert record["properties"] == {"image_type": "snapshot", "instance_uuid": INSTANCE["uuid"],
                                    "base_image_ref": IMAGE_FIELDS["id"], "user_id": "u1", "owner": "p1",
                                    "kernel_id": KERNEL, "ramdisk_id": RAMDISK}
    assert (record["min_disk"], record["min_ram"], record["owner"], record["is_public"]) == (30, 256, "p1", False)
    assert snapshot_record(INSTANCE, taken, "n", str(tmp_path / "catalog.yml"))["min_disk"] == 20  # m1.small's root
    assert record["location"] == "file://%s/%s.qcow2" % (tmp_path, taken["image_id"])
    ImageRecord(record)  # a valid catalog record


def test_a_fetched_image_is_checked_then_renamed_beside_the_catalog(tmp_path):
    fetched = tmp_path / ".part"
    fetched.write_bytes(b"abc")
    good = snapshot(size=3, checksum=md5sum(str(fetched)))
    with pytest.raises(NovaliteError, match="arrived with 3 bytes; the host wrote 4"):
        place_image(str(fetched), dict(good, size=4), str(tmp_path / "catalog.yml"))
    with pytest.raises(NovaliteError, match="arrived with md5"):
        place_image(str(fetched), dict(good, checksum="f" * 32), str(tmp_path / "catalog.yml"))
    target = place_image(str(fetched), good, str(tmp_path / "catalog.yml"))
    assert target == str(tmp_path / ("%s.qcow2" % good["image_id"])) and not fetched.exists()


@pytest.mark.parametrize("name, form", [("catalog.yml", "mapping"), ("catalog.yml", "list"),
                                        ("catalog.json", "mapping"), ("catalog.json", "list")])
def test_the_writer_keeps_the_catalogs_form_and_a_rerun_adds_nothing(tmp_path, name, form):
    path = write_catalog(tmp_path / name, form)
    record = snapshot_record(INSTANCE, snapshot(), "web-golden", str(path))
    assert CatalogWriter(str(path)).add([record]) == [record]
    text = path.read_text()
    document = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    assert isinstance(document, dict) == (form == "mapping")
    catalog = load_catalog_file(str(path))
    assert catalog.find("web-golden").properties["instance_uuid"] == INSTANCE["uuid"]
    again = snapshot_record(INSTANCE, snapshot(), "web-golden", str(path))
    assert CatalogWriter(str(path)).add([again]) == [] and len(load_catalog_file(str(path)).images) == 2
    assert existing_snapshot(catalog, "web-golden", INSTANCE["uuid"]).id == record["id"]


def test_a_name_another_image_has_is_refused_and_the_catalog_stays_as_it_was(tmp_path):
    path = write_catalog(tmp_path / "catalog.yml")
    before = path.read_text()
    taken = snapshot_record(INSTANCE, snapshot(), IMAGE_FIELDS["name"], str(path))
    with pytest.raises(InvalidInput, match="image name cirros-test-image is taken"):
        CatalogWriter(str(path)).add([taken])
    assert path.read_text() == before


def _writer(path, worker, count):
    writer = CatalogWriter(path)
    for index in range(count):
        instance = dict(INSTANCE, uuid=str(uuid.UUID(int=worker * 1000 + index + 1)))
        writer.add([snapshot_record(instance, snapshot(), "snap-%d-%d" % (worker, index), path)])


def _reader(path, stop, reads, failures):
    while not stop.is_set():
        try:
            images = load_catalog_file(path).images
            if not images:
                raise AssertionError("an empty catalog")
            reads.value += 1
            time.sleep(0.005)  # leave the writers some of the CPU
        except Exception as exc:  # pylint: disable=broad-except  # every kind of torn read is a failure
            failures.put(repr(exc))


def test_many_writers_at_once_all_land_and_no_reader_sees_a_torn_catalog(tmp_path):
    path = str(write_catalog(tmp_path / "catalog.yml"))
    context = multiprocessing.get_context("fork")
    stop, reads, failures = context.Event(), context.Value("i", 0), context.Queue()
    readers = [context.Process(target=_reader, args=(path, stop, reads, failures)) for _reader_index in range(3)]
    writers = [context.Process(target=_writer, args=(path, worker, 5)) for worker in range(5)]
    for process in readers + writers:
        process.start()
    for process in writers:
        process.join(120)
    stop.set()
    for process in readers:
        process.join(30)
    assert [process.exitcode for process in writers + readers] == [0] * (len(writers) + len(readers))
    problems = []
    while not failures.empty():
        problems.append(failures.get())
    assert problems == [] and reads.value > 0
    names = {image.name for image in load_catalog_file(path).images.values()}
    assert names == {IMAGE_FIELDS["name"]} | {"snap-%d-%d" % (w, i) for w in range(5) for i in range(5)}
    assert sorted(os.listdir(tmp_path)) == ["catalog.yml", "catalog.yml.lock"]  # no temporary file left
