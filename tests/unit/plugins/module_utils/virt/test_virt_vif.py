"""network_info VIFs: what the domain interface and its filterref get from them."""

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.virt.addresses import ipv4_network, unicast_mac
from ansible_collections.novalite.compute.plugins.module_utils.virt.vif import parse_vif
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_samples import seed_vif


def test_seed_vif_gives_nova_filter_parameters():
    vif = parse_vif(seed_vif(), "vif")
    assert (vif.mac, vif.bridge, vif.address) == ("fa:16:3e:47:ef:94", "br100", "10.1.0.4")
    assert vif.filter_parameters() == {"IP": "10.1.0.4", "DHCPSERVER": "10.1.0.3",
                                       "PROJNET": "10.1.0.0", "PROJMASK": "255.255.0.0"}
    assert vif.filter_name("instance-0000000a") == "nova-instance-instance-0000000a-fa163e47ef94"


def test_mac_is_normalised():
    assert parse_vif(seed_vif(mac="FA-16-3E-47-EF-94"), "vif").mac == "fa:16:3e:47:ef:94"


def test_ipv6_and_empty_subnets_are_skipped():
    raw = seed_vif()
    raw["network"]["subnets"].insert(0, {"cidr": "fd00::/64", "ips": [{"address": "fd00::4"}]})
    assert parse_vif(raw, "vif").address == "10.1.0.4"


def test_without_dhcp_server_or_subnet_only_known_parameters():
    raw = seed_vif()
    raw["network"]["subnets"][0]["meta"] = {}
    assert "DHCPSERVER" not in parse_vif(raw, "vif").filter_parameters()
    raw["network"]["subnets"] = []
    assert parse_vif(raw, "vif").filter_parameters() == {}


@pytest.mark.parametrize("value", ["ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01", "00:00:00:00:00:00", "fa:16:3e:47:ef",
                                   "fa:16:3e:47:ef:94:00:01", None, 42])
def test_macs_that_are_not_unicast_eui48_are_refused(value):
    with pytest.raises(InvalidInput, match="MAC"):
        unicast_mac(value, "mac")


@pytest.mark.parametrize("value", ["10.1.2.3/16", "10.1/16", "10.1.0.0/33", "10.1.0.0", "fd00::/64", "x/8"])
def test_networks_must_be_ipv4_network_addresses(value):
    with pytest.raises(InvalidInput, match="expected an IPv4 network"):
        ipv4_network(value, "cidr")


def test_network_error_suggests_the_network():
    with pytest.raises(InvalidInput, match="did you mean 10.1.0.0/16"):
        ipv4_network("10.1.2.3/16", "cidr")


def test_vif_needs_a_network_mapping():
    with pytest.raises(InvalidInput, match="network: expected a mapping"):
        parse_vif({"address": "fa:16:3e:47:ef:94"}, "vif")
