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
        {"instance_uuid": "u1", "instance_name": "instance-0000000a", "hostname": "test", "host": "c1",
         "project_id": RECORD.get("project_id")}]


def test_domain_entry_takes_network_info_from_the_run():
    [entry] = specs_for([RECORD], "libvirt_domain", network_info=VIFS)
    assert entry["network_info"] == VIFS["u1"] and entry["config_drive"] is True
    assert set(entry) == {"name", "uuid", "display_name", "flavor", "kernel_id", "ramdisk_id", "config_drive",
                          "network_info"}


def test_one_instance_filter_per_vif():
    assert specs_for([RECORD], "nwfilter", network_info=VIFS) == [
        {"instance_name": "instance-0000000a", "mac": "fa:16:3e:00:00:01", "security_groups": ["default", "web"]},
        {"instance_name": "instance-0000000a", "mac": "fa:16:3e:00:00:02", "security_groups": ["default", "web"]}]


def test_an_instance_filter_carries_its_vifs_fixed_address_dhcp_server_and_cidr():
    subnets = [{"cidr": "10.1.0.0/16", "version": 4, "ips": [{"address": "10.1.0.5"}], "meta": {"dhcp_server": "10.1.0.3"}},
               {"cidr": None, "version": None, "ips": [], "meta": {"dhcp_server": "10.1.0.3"}}]
    vifs = {"u1": [{"id": "v1", "address": "fa:16:3e:00:00:01", "network": {"bridge": "br100", "subnets": subnets}}]}
    [entry] = specs_for([RECORD], "nwfilter", network_info=vifs)
    assert (entry["address"], entry["dhcp_server"], entry["project_cidr"]) == ("10.1.0.5", "10.1.0.3", "10.1.0.0/16")


def test_config_drive_entry_is_the_record_with_its_network_info():
    [entry] = specs_for([RECORD], "config_drive", network_info=VIFS)
    assert entry["network_info"] == VIFS["u1"] and entry["hostname"] == "test"


def test_unknown_module():
    with pytest.raises(InvalidInput, match="no instance mapping"):
        specs_for([RECORD], "nope")


NETWORK = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
           "gateway": "10.1.0.1", "bridge": "br100"}
OTHER_NETWORK = "5d1c2f4e-7d0b-4f43-9d8e-1f2a3b4c5d6e"
FACTS = {
    "networks": {NETWORK["uuid"]: dict(NETWORK, dhcp_server="10.1.0.3", host="c1", released_vif_ids=["v0"]),
                 OTHER_NETWORK: {"uuid": OTHER_NETWORK, "label": "other", "bridge": "br9"}},
    "fixed_ips": {"10.1.0.2": {"address": "10.1.0.2", "network_id": NETWORK["uuid"], "instance_uuid": "u1",
                               "mac": "fa:16:3e:00:00:09"},
                  "10.9.0.2": {"address": "10.9.0.2", "network_id": "elsewhere", "instance_uuid": "u2",
                               "mac": "fa:16:3e:00:00:08"}},
}


def test_removal_filters_also_come_from_the_hosts_fixed_ips():
    """A record without network info (a build that failed after the network step) still names its filters."""
    record = dict(RECORD, network_info=[])
    assert specs_for([record], "nwfilter", fixed_ips=FACTS["fixed_ips"]) == [
        {"instance_name": "instance-0000000a", "mac": "fa:16:3e:00:00:09", "security_groups": ["default", "web"]}]
    recorded = dict(RECORD, network_info=[{"id": "v1", "address": "fa:16:3e:00:00:09"}])
    assert len(specs_for([recorded], "nwfilter", fixed_ips=FACTS["fixed_ips"])) == 1  # the same VIF once


def test_release_networks_are_the_recorded_ones_the_records_hold_addresses_in():
    assert specs_for([RECORD], "release_networks", facts=FACTS) == [NETWORK]  # host-only fields dropped
    assert specs_for([dict(RECORD, uuid="u3")], "release_networks", facts=FACTS) == []
    run_network = {"uuid": "2b7f9d1e-3c4a-4e5f-8a6b-7c8d9e0f1a2b", "label": "run", "bridge": "br7"}
    assert specs_for([RECORD], "release_networks", facts=FACTS, networks=[run_network, dict(NETWORK, label="new")]) == [
        NETWORK, run_network]  # each network once, as the host recorded it
    assert specs_for([RECORD], "release_networks") == []
