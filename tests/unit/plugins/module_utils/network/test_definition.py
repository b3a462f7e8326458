import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.validate import IPAddress
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NetworkRecord


def address(text):
    return IPAddress(text)


def test_the_example_network_gets_novas_derived_values(network):
    assert network.to_facts() == {
        "uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
        "gateway": "10.1.0.1", "dhcp_start": "10.1.0.2", "netmask": "255.255.0.0", "broadcast": "10.1.255.255",
        "dns1": "8.8.4.4", "dns2": None, "bridge": "br100", "bridge_interface": "eth0", "multi_host": True,
        "project_id": None, "vlan": None, "reserved": [], "dhcp_domain": "novalocal"}


def test_pool_runs_from_dhcp_start_to_before_broadcast_without_gateway_and_reserved(make_network):
    network = make_network(dhcp_start="10.1.0.1", reserved=["10.1.0.5", "10.1.0.10-10.1.0.12", "10.1.1.0/30"])
    assert network.pool.size == 65536 - 3 - 1 - 3 - 4  # network/gateway/broadcast, .5, .10-.12, /30
    for text, reason in (("10.1.0.1", "it is the gateway"), ("10.1.255.255", "it is the broadcast"),
                         ("10.1.0.11", "it is reserved"), ("10.1.1.2", "it is reserved"),
                         ("10.2.0.1", "it is outside 10.1.0.0/16")):
        assert network.why_not_in_pool(address(text)) == reason
    assert network.why_not_in_pool(address("10.1.0.2")) is None


def test_below_dhcp_start_is_not_handed_out(make_network):
    network = make_network(dhcp_start="10.1.0.100")
    assert network.why_not_in_pool(address("10.1.0.50")) == "it is below dhcp_start 10.1.0.100"


@pytest.mark.parametrize("changes, expected", [
    ({"cidr": "10.1.0.0/33"}, "network.cidr '10.1.0.0/33': expected an IPv4 network in CIDR form"),
    ({"cidr": "10.1/16"}, "network.cidr '10.1/16'"),
    ({"cidr": "10.1.0.5/16"}, "has host bits set: expected the network address, 10.1.0.0/16"),
    ({"cidr": "10.1.0.0/31"}, "too small"),
    ({"gateway": "10.2.0.1"}, "network.gateway 10.2.0.1 is not a host address of 10.1.0.0/16"),
    ({"dhcp_start": "10.1.255.255"}, "network.dhcp_start 10.1.255.255 is not a host address"),
    ({"dhcp_start": "10.1.0.x"}, "network.dhcp_start '10.1.0.x': expected an IPv4 address"),
    ({"netmask": "255.255.255.0"}, "network.netmask 255.255.255.0 does not match the cidr"),
    ({"bridge": "br100-far-too-long"}, "network.bridge 'br100-far-too-long': expected a network device name"),
    ({"bridge": "br 100"}, "network.bridge 'br 100'"),
    ({"bridge_interface": "eth0/1"}, "network.bridge_interface 'eth0/1'"),
    ({"label": "pri,vate"}, "network.label 'pri,vate': expected 1 to 64 letters"),
    ({"uuid": "not-a-uuid"}, "network.uuid 'not-a-uuid': expected a UUID"),
    ({"reserved": ["10.2.0.1"]}, "network.reserved entry '10.2.0.1' is not inside 10.1.0.0/16"),
    ({"reserved": ["10.1.0.9-10.1.0.3"]}, "is an empty range"),
    ({"vlan": 5000}, "network.vlan (a VLAN id) 5000: expected a whole number from 1 to 4094"),
    ({"dhcp_domain": "nova local"}, "network.dhcp_domain 'nova local': expected a DNS domain"),
    ({"bridge": "br100\n"}, "network.bridge 'br100\\n'"),
    ({"label": "private\n"}, "network.label 'private\\n'"),
    ({"dhcp_domain": "novalocal\n"}, "network.dhcp_domain 'novalocal\\n'"),
    ({"project_id": "p\n1"}, "network.project_id 'p\\n1': expected text on one line"),
    ({"multi_host": "yes"}, "network.multi_host 'yes': expected true or false"),
    ({"uuid": None}, "network: missing uuid (every definition needs uuid, label, cidr, bridge)"),
    ({"cidr": "", "bridge": None}, "network: missing cidr, bridge"),
    ({"colour": "blue"}, "network: unknown field(s) colour"),
])
def test_bad_network_is_refused_naming_the_value(make_network, changes, expected):
    with pytest.raises(InvalidInput) as error:
        make_network(**changes)
    assert expected in error.value.msg


def test_recorded_network_with_another_layout_is_refused(network):
    recorded = dict(network.to_facts(), cidr="10.2.0.0/16")
    with pytest.raises(InvalidInput, match="recorded on host compute1 with cidr 10.2.0.0/16, not 10.1.0.0/16"):
        network.check_same_layout(recorded, "host compute1")


def test_reserved_accepts_an_address_a_range_with_spaces_and_a_cidr(make_network):
    network = make_network(reserved=["10.1.0.4 - 10.1.0.7", "10.1.0.9", "10.1.1.0/29"])
    assert network.reserved == ["10.1.0.4-10.1.0.7", "10.1.0.9", "10.1.1.0/29"]
    assert network.reserved_set().size == 4 + 1 + 8


def test_a_recorded_network_reads_back_as_the_same_definition(network):
    recorded = dict(network.to_facts(), dhcp_server="10.1.0.3", host="compute1", released_vif_ids=["v"])
    assert NetworkRecord.from_facts(recorded).to_facts() == network.to_facts()


def test_a_definition_is_a_mapping():
    with pytest.raises(InvalidInput, match="network: expected a mapping"):
        NetworkRecord.from_params("private")
