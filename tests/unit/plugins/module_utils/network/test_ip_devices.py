import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.network.ip_devices import InetAddress, probe_device


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
