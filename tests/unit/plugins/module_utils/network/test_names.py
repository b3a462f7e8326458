import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network import names


@pytest.mark.parametrize("value", ["vm1", "a", "web-01", "x" * 63])
def test_dns_labels_that_go_into_the_hosts_file(value):
    assert names.dns_label(value, "hostname") == value


@pytest.mark.parametrize("value", ["vm1\n", "vm,1", "vm 1", "-vm", "vm-", "vm.1", "", "x" * 64, None, 7])
def test_anything_that_could_split_a_hosts_line_is_refused(value):
    with pytest.raises(InvalidInput, match="is not a valid DNS label"):
        names.dns_label(value, "hostname")


@pytest.mark.parametrize("check, value", [(names.device_name, "br100\n"), (names.dnsmasq_tag, "private\n"),
                                          (names.printable, "instance-1\n"), (names.dns_domain, "novalocal\n")])
def test_a_trailing_newline_is_refused_everywhere(check, value):
    with pytest.raises(InvalidInput):
        check(value, "field")


def test_uuids_come_out_canonical():
    assert names.uuid_string("E011B388163B4080A083BB63EBED7F6A", "uuid") == "e011b388-163b-4080-a083-bb63ebed7f6a"
