"""Issue 2 acceptance: the test guest boots on every sandbox host, takes the address its
host's dnsmasq assigned to its MAC, and reaches a guest on the other host over the flat
provider network."""

import json

import pytest

from guests import (boot_guest, libvirt_connection, pings, remove_flat_bridge, remove_guest,
                    setup_flat_bridge, start_dnsmasq, wait_for_console)
from sandbox import stop_pids

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
    started = []
    try:
        consoles = {}
        for host_name, (dhcp, address, mac) in PLAN.items():
            host = sandbox.host(host_name)
            conn = libvirt_connection(host)
            setup_flat_bridge(host, "br100", dhcp)
            workdir = host.state_dir / "test-dnsmasq"  # world-readable: dnsmasq drops root
            started.append((host, conn, start_dnsmasq(host, workdir, dhcp, [(mac, "guest-" + host_name, address)])))
            other = PLAN["compute2" if host_name == "compute1" else "compute1"][1]
            consoles[host_name] = boot_guest(
                conn, host, "guest-" + host_name, guest_image, mac,
                meta_data_json=json.dumps({"uuid": "00000000-0000-0000-0000-00000000000%s" % host_name[-1],
                                           "name": "guest-" + host_name, "hostname": "guest-" + host_name}),
                user_data=REACH_SCRIPT % (other, other, other))
        yield consoles
    finally:
        for host, conn, dnsmasq_pid in started:
            remove_guest(conn, "guest-" + host.name)
            stop_pids([dnsmasq_pid])
            remove_flat_bridge(host, "br100")
            conn.close()


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
