import libvirt

from ansible_collections.novalite.compute.plugins.module_utils.compute.resource_tracker import (
    compute_node, disk_totals, has_nwfilter_driver, hypervisor_totals)


class FakeConnection:
    def getInfo(self):
        return ["x86_64", 24000, 2, 2400, 1, 1, 2, 1]

    def getType(self):
        return "QEMU"

    def getVersion(self):
        return 7002000


def test_usage_is_counted_from_live_instance_flavors():
    instances = [{"uuid": "a", "vm_state": "active", "flavor": {"memory_mb": 512, "vcpus": 1, "root_gb": 0}},
                 {"uuid": "b", "vm_state": "building", "flavor": {"memory_mb": 2048, "vcpus": 1, "root_gb": 20}},
                 {"uuid": "c", "vm_state": "deleted", "flavor": {"memory_mb": 9999, "vcpus": 9, "root_gb": 99}}]
    node = compute_node(hypervisor_totals(FakeConnection()), 250, 80, instances, reserved_host_memory_mb=512)
    assert node["memory_mb"] == 24000 and node["memory_mb_used"] == 512 + 512 + 2048
    assert node["free_ram_mb"] == 24000 - 3072
    assert (node["vcpus"], node["vcpus_used"]) == (2, 2)
    assert (node["local_gb"], node["local_gb_used"], node["free_disk_gb"]) == (250, 20, 80)
    assert node["running_vms"] == 2 and node["instances"] == ["a", "b"]
    assert node["hypervisor_type"] == "QEMU" and node["cpu_arch"] == "x86_64"


def test_disk_totals_of_a_path_not_yet_created(tmp_path):
    total, free = disk_totals(str(tmp_path / "not" / "yet"))
    assert total >= free >= 0


class NoNWFilterDriver:
    def listNWFilters(self):
        raise libvirt.libvirtError("this function is not supported by the connection driver: virConnectListNWFilters")


class NWFilterDriver:
    def listNWFilters(self):
        return ["nova-base"]


def test_nwfilter_driver_is_detected_by_listing_filters():
    assert has_nwfilter_driver(NWFilterDriver()) is True
    assert has_nwfilter_driver(NoNWFilterDriver()) is False
