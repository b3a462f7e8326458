import pytest

from ansible_collections.novalite.compute.plugins.module_utils.compute import quotas

TINY = {"vcpus": 1, "memory_mb": 512}


def record(project, vm_state="active", vcpus=1, ram=512):
    return {"project_id": project, "vm_state": vm_state, "flavor": {"vcpus": vcpus, "memory_mb": ram}}


def test_usage_counts_the_projects_live_instances_only():
    records = [record("p1"), record("p1", vcpus=2, ram=2048), record("p2"), record("p1", vm_state="deleted")]
    assert quotas.project_usage(records, "p1") == {"instances": 2, "cores": 3, "ram": 2560}


def test_instances_quota_names_resource_and_numbers():
    limits = quotas.effective_quotas({"instances": 3})
    with pytest.raises(quotas.QuotaExceeded, match="instances in project p1: requested 2, in use 2, limit 3"):
        quotas.check_instances({"instances": 2, "cores": 2, "ram": 1024}, limits, 2, TINY, "p1")


def test_cores_and_ram_quotas():
    limits = quotas.effective_quotas()
    quotas.check_instances({"instances": 0, "cores": 0, "ram": 0}, limits, 10, TINY, "p")
    with pytest.raises(quotas.QuotaExceeded, match="cores"):
        quotas.check_instances({"instances": 0, "cores": 0, "ram": 0}, limits, 3, {"vcpus": 8, "memory_mb": 1}, "p")
    with pytest.raises(quotas.QuotaExceeded, match="ram"):
        quotas.check_instances({"instances": 0, "cores": 0, "ram": 51000}, limits, 1, TINY, "p")


def test_unlimited_quota():
    limits = quotas.effective_quotas({"instances": -1})
    quotas.check_instances({"instances": 500, "cores": 0, "ram": 0}, limits, 1, TINY, "p")


def test_metadata_items_and_lengths():
    limits = quotas.effective_quotas({"metadata_items": 2})
    quotas.check_metadata({"a": "1", "b": "2"}, limits, "p")
    with pytest.raises(quotas.QuotaExceeded, match="metadata_items"):
        quotas.check_metadata({"a": "1", "b": "2", "c": "3"}, limits, "p")
    with pytest.raises(quotas.QuotaExceeded, match="at most 255"):
        quotas.check_metadata({"k": "v" * 256}, limits, "p")


def test_injected_files_count_and_sizes():
    limits = quotas.effective_quotas()
    quotas.check_injected_files([{"path": "/etc/motd", "contents": "hi"}], limits, "p")
    with pytest.raises(quotas.QuotaExceeded, match="injected_files "):
        quotas.check_injected_files([{"path": "/f%d" % i, "contents": ""} for i in range(6)], limits, "p")
    with pytest.raises(quotas.QuotaExceeded, match="injected_file_content_bytes"):
        quotas.check_injected_files([{"path": "/big", "contents": "x" * 10241}], limits, "p")


def test_unknown_quota_name_is_refused():
    with pytest.raises(quotas.QuotaExceeded, match="unknown quota 'gpus'"):
        quotas.effective_quotas({"gpus": 1})
