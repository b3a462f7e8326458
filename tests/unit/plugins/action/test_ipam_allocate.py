"""The action plugin's wiring: hosts from the inventory, facts from hostvars, the ledger file."""

import json

import pytest

from ansible_collections.novalite.compute.plugins.action.ipam_allocate import allocate_for_play
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

NETWORK = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
           "gateway": None, "dhcp_start": None, "netmask": None, "broadcast": None, "dns1": "8.8.4.4", "dns2": None,
           "bridge": "br100", "bridge_interface": "eth0", "multi_host": True, "project_id": None, "vlan": None,
           "reserved": [], "dhcp_domain": "novalocal"}
REQUEST = {"instance_uuid": "90844617-d71f-474f-9cdf-35e244c846b0", "instance_name": "instance-0000000a",
           "hostname": "vm1", "host": "compute1", "address": None, "mac": None}
COMPUTE2_FACTS = {"schema_version": 1, "instances": {},
                  "networks": {NETWORK["uuid"]: dict(NETWORK, dhcp_server="10.1.0.2", host="compute2")},
                  "fixed_ips": {}}


@pytest.fixture
def args(tmp_path):
    return {"network": NETWORK, "requests": [REQUEST], "release": [], "hosts": None,
            "state_dir": str(tmp_path / "state"), "ledger_ttl": 3600}


def task_vars(hostvars):
    return {"groups": {"compute": list(hostvars)}, "hostvars": hostvars}


def test_reads_every_compute_hosts_facts_and_writes_the_ipam_ledger(args, tmp_path):
    hostvars = {"compute1": {"ansible_local": {}}, "compute2": {"ansible_local": {"novalite": COMPUTE2_FACTS}}}
    output = allocate_for_play(args, task_vars(hostvars), check_mode=False)
    assert output["dhcp_servers"] == {"compute1": "10.1.0.4"}  # compute2 serves from 10.1.0.2
    assert output["allocations"][0]["address"] == "10.1.0.3"
    ledger = json.loads((tmp_path / "state" / "ipam.json").read_text())
    assert ledger["fixed_ips/" + NETWORK["uuid"]][REQUEST["instance_uuid"]]["value"]["address"] == "10.1.0.3"


def test_check_mode_leaves_no_ledger(args, tmp_path):
    allocate_for_play(args, task_vars({"compute1": {"ansible_local": {}}}), check_mode=True)
    assert not (tmp_path / "state" / "ipam.json").exists()


def test_a_host_without_gathered_facts_is_an_error_not_an_empty_host(args):
    with pytest.raises(NovaliteError, match="no facts for host compute2"):
        allocate_for_play(args, task_vars({"compute1": {"ansible_local": {}}, "compute2": {}}), check_mode=False)


def test_hosts_must_come_from_somewhere(args):
    with pytest.raises(NovaliteError, match="no compute hosts given, and the inventory has no group 'compute'"):
        allocate_for_play(args, {"groups": {}, "hostvars": {}}, check_mode=False)
