import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput


@pytest.mark.parametrize("value, expected", [
    ("E011B388-163B-4080-A083-BB63EBED7F6A", "e011b388-163b-4080-a083-bb63ebed7f6a"),
    ("e011b388163b4080a083bb63ebed7f6a", "e011b388-163b-4080-a083-bb63ebed7f6a"),
])
def test_uuid_is_canonical(value, expected):
    assert validate.uuid(value, "uuid") == expected


@pytest.mark.parametrize("value", ["", "not-a-uuid", None, "e011b388-163b-4080-a083"])
def test_uuid_refused_names_field(value):
    with pytest.raises(InvalidInput, match="instances.0.uuid"):
        validate.uuid(value, "instances.0.uuid")


@pytest.mark.parametrize("value", ["10.1", "010.1.0.2", "10.1.0.256", "10.1.0.2\n", "", None, "::1"])
def test_ipv4_strict(value):
    with pytest.raises(InvalidInput, match="IPv4 address"):
        validate.ipv4_address(value, "address")


def test_ipv4_network_refuses_host_bits_and_names_the_network():
    assert str(validate.ipv4_network("10.1.0.0/16", "cidr")) == "10.1.0.0/16"
    with pytest.raises(InvalidInput, match="10.1.0.0/16"):
        validate.ipv4_network("10.1.0.5/16", "cidr")
    for bad in ("10.1.0.0", "10.1.0.0/33", "10.1/16", "10.1.0.0/x"):
        with pytest.raises(InvalidInput, match="CIDR"):
            validate.ipv4_network(bad, "cidr")


def test_address_range_forms():
    assert len(validate.address_range("10.1.0.2-10.1.0.5", "r")) == 4
    assert len(validate.address_range("10.1.0.0/30", "r")) == 4
    assert len(validate.address_range("10.1.0.9", "r")) == 1
    with pytest.raises(InvalidInput, match="empty range"):
        validate.address_range("10.1.0.5-10.1.0.2", "r")


@pytest.mark.parametrize("value, expected", [
    ("FA:16:3E:12:34:56", "fa:16:3e:12:34:56"), ("fa-16-3e-12-34-56", "fa:16:3e:12:34:56")])
def test_mac_canonical(value, expected):
    assert validate.mac_address(value, "mac") == expected


@pytest.mark.parametrize("value", ["01:00:5e:00:00:01", "00:00:00:00:00:00", "fa:16:3e:12:34", 0xfa163e123456,
                                   "fa:16:3e:12:34:56\n", None])
def test_mac_refused(value):
    with pytest.raises(InvalidInput, match="mac"):
        validate.mac_address(value, "mac")


@pytest.mark.parametrize("value", ["instance-0000000a", "a", "x" * 64, "web_1.a-b"])
def test_instance_name_accepted(value):
    assert validate.instance_name(value) == value


@pytest.mark.parametrize("value", ["", "_base", "locks", ".hidden", "-opt", "a/b", "a..b", "x" * 65, "a b",
                                   "a\n", None, 5])
def test_instance_name_refused(value):
    with pytest.raises(InvalidInput):
        validate.instance_name(value)


@pytest.mark.parametrize("value", ["web server", "Ünïcode ok", "x" * 255])
def test_display_name_accepted(value):
    assert validate.display_name(value) == value


@pytest.mark.parametrize("value", ["", "two\nlines", "tab\there", "x" * 256, None, 7])
def test_display_name_refused(value):
    with pytest.raises(InvalidInput):
        validate.display_name(value)


def test_device_and_dns_names():
    assert validate.device_name("br100", "bridge") == "br100"
    for bad in ("br 100", "a" * 16, "br100\n", "-br", ""):
        with pytest.raises(InvalidInput, match="device name"):
            validate.device_name(bad, "bridge")
    assert validate.dns_domain("example.org", "d") == "example.org"
    for bad in ("exa mple.org", "-a.org", "a..org", ""):
        with pytest.raises(InvalidInput, match="DNS domain"):
            validate.dns_domain(bad, "d")
    with pytest.raises(InvalidInput, match="dnsmasq tag"):
        validate.dnsmasq_tag("a,b", "label")


def test_numbers_refuse_bools_and_bounds():
    assert validate.whole_number(3, "count", 1, 20) == 3
    for bad in (True, 0, 21, "3", 2.5):
        with pytest.raises(InvalidInput, match="count"):
            validate.whole_number(bad, "count", 1, 20)
    assert validate.port(65535, "port") == 65535
    with pytest.raises(InvalidInput):
        validate.port(0, "port")


def test_structure_checks():
    assert validate.sequence(None, "x") == []
    with pytest.raises(InvalidInput, match="expected a list"):
        validate.sequence("abc", "x")
    with pytest.raises(InvalidInput, match="expected a mapping"):
        validate.mapping([], "x")
    with pytest.raises(InvalidInput, match="unknown field"):
        validate.reject_unknown({"a": 1, "zz": 2}, ("a", "b"), "x")
    validate.reject_unknown({"a": 1, "zz": None}, ("a",), "x")  # Ansible's unset suboptions
    with pytest.raises(InvalidInput, match="appears twice"):
        validate.reject_duplicates(["a", "b", "a"], "name")
    with pytest.raises(InvalidInput, match="one of"):
        validate.choice("icmpx", ("tcp", "udp", "icmp"), "protocol")


def test_one_line_and_paths():
    assert validate.one_line(None, "x") is None
    with pytest.raises(InvalidInput, match="at most 3"):
        validate.one_line("abcd", "x", 3)
    assert validate.absolute_path("/var/lib/../lib/novalite", "p") == "/var/lib/novalite"
    with pytest.raises(InvalidInput, match="absolute path"):
        validate.absolute_path("relative/path", "p")
