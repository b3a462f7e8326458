"""Issue 2 acceptance: the test guest boots on every sandbox host, takes the address its
host's dnsmasq assigned to its MAC, and reaches a guest on the other host over the flat
provider network."""

import contextlib
import json

import pytest

from guests import boot_guest, pings, wait_for_console
from virt_instances import host_libvirt, remove_instances
from virt_network import flat_network

# host name -> (DHCP-server address on br100, guest address, guest MAC)
PLAN = {
    "compute1": ("10.1.0.3", "10.1.0.2", "fa:16:3e:00:01:02"),
    "compute2": ("10.1.0.5", "10.1.0.4", "fa:16:3e:00:02:04"),
}
REACH_SCRIPT = """#!/bin/sh
# claim nothing, just prove guest-to-guest reachability across hosts
for i in $(seq 1 60); do
  if ping -c 1 -W 1 %s >/dev/null 2>&1; then echo "reached %s"; exit 0; fi
  sleep 1
done
echo "unreachable %s"; exit 1
"""


@pytest.fixture(scope="module")
def booted(sandbox, guest_image):
    """A guest on each host, each with its host's bridge and dnsmasq; removed afterwards."""
    with contextlib.ExitStack() as cleanup:
        consoles = {}
        for host_name, (dhcp, address, mac) in PLAN.items():
            host, name = sandbox.host(host_name), "guest-" + host_name
            cleanup.enter_context(flat_network(host, [(mac, name, address)], dhcp_server=dhcp))
            cleanup.callback(remove_instances, host, [name])
            other = PLAN["compute2" if host_name == "compute1" else "compute1"][1]
            with host_libvirt(host) as conn:
                consoles[host_name] = boot_guest(
                    conn, host, name, guest_image, mac,
                    meta_data_json=json.dumps({"uuid": "00000000-0000-0000-0000-00000000000%s" % host_name[-1],
                                               "name": name, "hostname": name}),
                    user_data=REACH_SCRIPT % (other, other, other))
        yield consoles


@pytest.mark.parametrize("host_name", sorted(PLAN))
def test_guest_takes_the_address_its_hosts_dnsmasq_assigned(sandbox, booted, host_name):
    _dhcp, address, mac = PLAN[host_name]
    wait_for_console(booted[host_name], r"lease %s %s" % (address, mac))
    assert pings(sandbox.host(host_name), address, count=2)


def test_guest_on_host1_reaches_guest_on_host2(booted):
    other = PLAN["compute2"][1]
    wait_for_console(booted["compute1"], r"reached %s" % other, timeout=180)


def test_guest_not_booted_is_not_reachable(sandbox, booted):
    """The ping check can fail: an address no guest holds does not answer."""
    wait_for_console(booted["compute1"], r"lease ")
    assert not pings(sandbox.host("compute1"), "10.1.0.200")
