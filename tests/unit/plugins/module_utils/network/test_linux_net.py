"""Devices as ip -j reports them, ensure_bridge's target layouts and the ip commands between layouts."""

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.network.linux_net import (
    Device, GatewayRoute, InetAddress, Layout, check_usable, gateway_address, ip_commands, present_target,
    probe_device, teardown_target)

HOST_ADDRESS = InetAddress("192.168.96.80", 24)
SECONDARY = InetAddress("192.168.96.90", 24)
DEFAULT_ROUTE = GatewayRoute.from_json({"dst": "default", "gateway": "192.168.96.254", "flags": []})
STATIC_ROUTE = GatewayRoute.from_json({"dst": "172.16.0.0/16", "gateway": "192.168.96.253", "metric": 5,
                                       "protocol": "static", "flags": ["onlink"]})


def sandbox_host():
    """A sandbox host before nova_network: eth0 with its address and default route, no bridge."""
    return Layout(Device("br100"), Device("eth0", True, "veth", True, None, [HOST_ADDRESS, SECONDARY],
                                          [DEFAULT_ROUTE, STATIC_ROUTE]))


def test_routes_format_back_what_ip_printed():
    assert STATIC_ROUTE.args("br100") == ["172.16.0.0/16", "via", "192.168.96.253", "dev", "br100",
                                          "metric", "5", "proto", "static", "onlink"]
    assert InetAddress.from_json({"local": "10.1.0.3", "prefixlen": 16, "broadcast": "10.1.255.255"}).args() == [
        "10.1.0.3/16", "brd", "10.1.255.255"]


def test_ensure_bridge_moves_addresses_and_routes_with_the_dhcp_address_first(network):
    current = sandbox_host()
    target = present_target(current, gateway_address(network, "10.1.0.3"))
    assert [" ".join(c) for c in ip_commands(current, target)] == [
        "link add br100 type bridge forward_delay 0 stp_state 0",
        "link set br100 up",
        "link set eth0 master br100",
        "route del default via 192.168.96.254 dev eth0",
        "route del 172.16.0.0/16 via 192.168.96.253 dev eth0 metric 5 proto static onlink",
        "addr del 192.168.96.90/24 dev eth0",
        "addr del 192.168.96.80/24 dev eth0",
        "addr add 10.1.0.3/16 brd 10.1.255.255 dev br100",
        "addr add 192.168.96.80/24 dev br100",
        "addr add 192.168.96.90/24 dev br100",
        "route add default via 192.168.96.254 dev br100",
        "route add 172.16.0.0/16 via 192.168.96.253 dev br100 metric 5 proto static onlink",
    ]
    assert ip_commands(target, present_target(target, gateway_address(network, "10.1.0.3"))) == []


def test_dhcp_address_not_first_is_put_first(network):
    dhcp = gateway_address(network, "10.1.0.3")
    current = Layout(Device("br100", True, "bridge", True, None, [HOST_ADDRESS, dhcp], [DEFAULT_ROUTE]),
                     Device("eth0", True, "veth", True, "br100"))
    assert [" ".join(c) for c in ip_commands(current, present_target(current, dhcp))] == [
        "route del default via 192.168.96.254 dev br100",
        "addr del 10.1.0.3/16 brd 10.1.255.255 dev br100",
        "addr del 192.168.96.80/24 dev br100",
        "addr add 10.1.0.3/16 brd 10.1.255.255 dev br100",
        "addr add 192.168.96.80/24 dev br100",
        "route add default via 192.168.96.254 dev br100",
    ]


def test_teardown_keeps_the_bridge_or_gives_the_interface_everything_back(network):
    dhcp = gateway_address(network, "10.1.0.3")
    before = sandbox_host()
    up = present_target(before, dhcp)
    kept = teardown_target(up, dhcp, remove_bridge=False)
    assert ip_commands(up, kept) == [["addr", "del", "10.1.0.3/16", "brd", "10.1.255.255", "dev", "br100"]]
    removed = teardown_target(up, dhcp, remove_bridge=True)
    assert not removed.bridge.exists and removed.interface.master is None
    assert removed.interface.addresses == before.interface.addresses
    assert removed.interface.routes == before.interface.routes
    assert "link del br100" in [" ".join(c) for c in ip_commands(up, removed)]
    assert ip_commands(before, teardown_target(before, dhcp, remove_bridge=True)) == []


def test_undo_is_the_transition_back(network):
    before = sandbox_host()
    up = present_target(before, gateway_address(network, "10.1.0.3"))
    back = ip_commands(up, before)
    assert back[-1] == ["route", "add", "172.16.0.0/16", "via", "192.168.96.253", "dev", "eth0", "metric", "5",
                        "proto", "static", "onlink"]
    assert ["link", "del", "br100"] in back and ["link", "set", "eth0", "nomaster"] in back


@pytest.mark.parametrize("layout, message", [
    (Layout(Device("br100", True, "veth"), Device("eth0", True, "veth")), "br100 exists and is not a bridge"),
    (Layout(Device("br100"), Device("eth0")), "network.bridge_interface eth0 does not exist on this host"),
    (Layout(Device("br100"), Device("eth0", True, "veth", True, "br200")), "already a port of br200"),
])
def test_what_ensure_bridge_cannot_fix_is_refused(network, layout, message):
    with pytest.raises(InvalidInput, match=message):
        check_usable(layout, network)


def test_a_missing_device_takes_one_command(fake_host):
    device = probe_device(fake_host.run_command, "br100")
    assert not device.exists and device.describe() is None
    assert fake_host.commands == [["ip", "-j", "-d", "link", "show", "dev", "br100"]]


def test_no_name_runs_nothing(fake_host):
    assert not probe_device(fake_host.run_command, None).exists
    assert fake_host.commands == []


def test_an_existing_device_reads_link_addresses_and_routes(fake_host):
    device = probe_device(fake_host.run_command, "eth0")
    assert device.exists and device.kind == "veth" and device.up and device.master is None
    assert device.addresses == [InetAddress("192.168.96.80", 24)]
    assert [r.describe() for r in device.routes] == ["default via 192.168.96.254"]
    assert len(fake_host.commands) == 3


def test_output_that_is_not_json_is_an_error():
    def run_command(_args):
        return 0, "eth0: <UP>", ""
    with pytest.raises(NovaliteError, match="^ip -j -d link show dev eth0 printed something that is not JSON"):
        probe_device(run_command, "eth0")
