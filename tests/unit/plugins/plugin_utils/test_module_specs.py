import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.plugin_utils.request import find_flavor
from ansible_collections.novalite.compute.plugins.plugin_utils.module_specs import specs_for

RECORD = {"uuid": "u1", "name": "instance-0000000a", "display_name": "test", "hostname": "test", "host": "c1",
          "flavor": find_flavor("m1.small"), "image_ref": "img", "kernel_id": "k", "ramdisk_id": None,
          "config_drive": True, "security_groups": ["default", "web"], "network_info": []}
VIFS = {"u1": [{"id": "v1", "address": "fa:16:3e:00:00:01"}, {"id": "v2", "address": "fa:16:3e:00:00:02"}]}


def test_image_cache_entry():
    assert specs_for([RECORD], "image_cache") == [
        {"name": "instance-0000000a", "image_id": "img", "kernel_id": "k", "ramdisk_id": "", "root_gb": 20}]


def test_ipam_request():
    assert specs_for([RECORD], "ipam_allocate") == [
        {"instance_uuid": "u1", "instance_name": "instance-0000000a", "hostname": "test", "host": "c1"}]


def test_domain_entry_takes_network_info_from_the_run():
    [entry] = specs_for([RECORD], "libvirt_domain", network_info=VIFS)
    assert entry["network_info"] == VIFS["u1"] and entry["config_drive"] is True
    assert set(entry) == {"name", "uuid", "display_name", "flavor", "kernel_id", "ramdisk_id", "config_drive",
                          "network_info"}


def test_one_instance_filter_per_vif():
    assert specs_for([RECORD], "nwfilter", network_info=VIFS) == [
        {"instance_name": "instance-0000000a", "mac": "fa:16:3e:00:00:01", "security_groups": ["default", "web"]},
        {"instance_name": "instance-0000000a", "mac": "fa:16:3e:00:00:02", "security_groups": ["default", "web"]}]


def test_config_drive_entry_is_the_record_with_its_network_info():
    [entry] = specs_for([RECORD], "config_drive", network_info=VIFS)
    assert entry["network_info"] == VIFS["u1"] and entry["hostname"] == "test"


def test_unknown_module():
    with pytest.raises(InvalidInput, match="no instance mapping"):
        specs_for([RECORD], "nope")
