import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network.addresses import parse_ipv4


def test_seed_network_gets_novas_derived_values(network):
    assert network.to_facts() == {
        "uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
        "gateway": "10.1.0.1", "dhcp_start": "10.1.0.2", "netmask": "255.255.0.0", "broadcast": "10.1.255.255",
        "dns1": "8.8.4.4", "dns2": None, "bridge": "br100", "bridge_interface": "eth0", "multi_host": True,
        "project_id": None, "vlan": None, "reserved": [], "dhcp_domain": "novalocal"}


def test_pool_runs_from_dhcp_start_to_before_broadcast_without_gateway_and_reserved(make_network):
    network = make_network(dhcp_start="10.1.0.1", reserved=["10.1.0.5", "10.1.0.10-10.1.0.12", "10.1.1.0/30"])
    assert network.pool.size == 65536 - 3 - 1 - 3 - 4  # network/gateway/broadcast, .5, .10-.12, /30
    for address, reason in (("10.1.0.1", "it is the gateway"), ("10.1.255.255", "it is the broadcast"),
                            ("10.1.0.11", "it is reserved"), ("10.1.1.2", "it is reserved"),
                            ("10.2.0.1", "it is outside 10.1.0.0/16")):
        assert network.why_not_in_pool(parse_ipv4(address, "a")) == reason
    assert network.why_not_in_pool(parse_ipv4("10.1.0.2", "a")) is None


def test_below_dhcp_start_is_not_handed_out(make_network):
    network = make_network(dhcp_start="10.1.0.100")
    assert network.why_not_in_pool(parse_ipv4("10.1.0.50", "a")) == "it is below dhcp_start 10.1.0.100"


@pytest.mark.parametrize("changes, expected", [
    ({"cidr": "10.1.0.0/33"}, "network.cidr '10.1.0.0/33' is not an IPv4 network in CIDR form"),
    ({"cidr": "10.1/16"}, "network.cidr '10.1/16'"),
    ({"cidr": "10.1.0.5/16"}, "has host bits set: expected the network address, 10.1.0.0/16"),
    ({"cidr": "10.1.0.0/31"}, "too small"),
    ({"gateway": "10.2.0.1"}, "network.gateway 10.2.0.1 is not a host address of 10.1.0.0/16"),
    ({"dhcp_start": "10.1.255.255"}, "network.dhcp_start 10.1.255.255 is not a host address"),
    ({"dhcp_start": "10.1.0.x"}, "network.dhcp_start '10.1.0.x' is not an IPv4 address"),
    ({"netmask": "255.255.255.0"}, "network.netmask 255.255.255.0 does not match the cidr"),
    ({"bridge": "br100-far-too-long"}, "network.bridge 'br100-far-too-long' is not a usable network device name"),
    ({"bridge": "br 100"}, "network.bridge 'br 100'"),
    ({"bridge_interface": "eth0/1"}, "network.bridge_interface 'eth0/1'"),
    ({"label": "pri,vate"}, "network.label 'pri,vate' cannot be a dnsmasq tag"),
    ({"uuid": "not-a-uuid"}, "network.uuid 'not-a-uuid' is not a UUID"),
    ({"reserved": ["10.2.0.1"]}, "network.reserved entry '10.2.0.1' is not inside 10.1.0.0/16"),
    ({"reserved": ["10.1.0.9-10.1.0.3"]}, "is an empty range"),
    ({"vlan": 5000}, "network.vlan 5000 is not a VLAN id"),
    ({"dhcp_domain": "nova local"}, "network.dhcp_domain 'nova local' is not a valid DNS domain"),
])
def test_bad_network_is_refused_naming_the_value(make_network, changes, expected):
    with pytest.raises(InvalidInput) as error:
        make_network(**changes)
    assert expected in error.value.msg


def test_recorded_network_with_another_layout_is_refused(network):
    recorded = dict(network.to_facts(), cidr="10.2.0.0/16")
    with pytest.raises(InvalidInput, match="recorded on host compute1 with cidr 10.2.0.0/16, not 10.1.0.0/16"):
        network.check_same_layout(recorded, "host compute1")
