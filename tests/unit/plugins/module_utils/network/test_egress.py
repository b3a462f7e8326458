"""Egress settings: checked options, defaults from the host's route, devices that must exist."""

import json

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network.egress import (
    EgressOptions, enslaved_interfaces, resolve)


def host(route=None, devices=("eth0", "eth1")):
    def run_command(args, **_kwargs):
        if "get" in args:
            return (0, json.dumps([route]), "") if route else (2, "", "Network is unreachable")
        name = args[args.index("dev") + 1]
        if name in devices:
            return 0, json.dumps([{"ifname": name, "flags": ["UP"], "linkinfo": {"info_kind": "veth"}}]), ""
        return 1, "", "Device does not exist"
    return run_command


ROUTE = {"dst": "8.8.8.8", "dev": "eth0", "prefsrc": "192.168.96.80"}


def options(**params):
    return EgressOptions(dict({"dmz_cidr": [], "force_snat_range": [], "metadata_port": 8775}, **params))


def test_defaults_come_from_the_route_and_eth0_becomes_its_bridge():
    settings = resolve(options(), host(ROUTE), {"eth0": "br100"})
    assert settings == {"routing_source_ip": "192.168.96.80", "public_interface": "br100", "dmz_cidr": [],
                        "force_snat_range": [], "metadata_port": 8775}
    assert resolve(options(), host(dict(ROUTE, dev="br100")), {"eth0": "br100"})["public_interface"] == "br100"


def test_given_values_win_and_empty_means_no_interface():
    settings = resolve(options(routing_source_ip="203.0.113.9", public_interface="eth1"), host(ROUTE), {})
    assert (settings["routing_source_ip"], settings["public_interface"]) == ("203.0.113.9", "eth1")
    assert resolve(options(public_interface=""), host(ROUTE), {})["public_interface"] == ""


def test_a_missing_device_and_a_missing_route_are_refused():
    with pytest.raises(InvalidInput, match="public_interface eth7 does not exist on this host"):
        resolve(options(public_interface="eth7"), host(ROUTE), {})
    with pytest.raises(InvalidInput, match="public_interface: the host has no route to 8.8.8.8"):
        resolve(options(), host(None), {})
    with pytest.raises(InvalidInput, match="routing_source_ip: the host has no route"):
        resolve(options(public_interface="eth1"), host(None), {})


@pytest.mark.parametrize("params, message", [
    ({"dmz_cidr": ["10.0.0.0/33"]}, r"dmz_cidr\[0\]"),
    ({"force_snat_range": "0.0.0.0/0"}, "force_snat_range: expected a list"),
    ({"public_interface": "a/b"}, "public_interface 'a/b'"),
    ({"metadata_port": 0}, None),  # 0 is "not given": the default port
])
def test_bad_options(params, message):
    if message is None:
        assert options(**params).metadata_port == 8775
        return
    with pytest.raises(InvalidInput, match=message):
        options(**params)


def test_enslaved_interfaces():
    assert enslaved_interfaces([{"bridge": "br100", "bridge_interface": "eth0"}, {"bridge": "br101"}]) == {
        "eth0": "br100"}
