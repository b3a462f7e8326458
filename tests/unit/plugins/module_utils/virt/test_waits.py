"""Waiting for guests: batch polling with a timeout, lease seen in the neighbour table, TCP port."""

import socket

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.virt.domain import DomainPlan
from ansible_collections.novalite.compute.plugins.module_utils.virt.guest import GuestSpec, parse_vif
from ansible_collections.novalite.compute.plugins.module_utils.virt.waits import (
    GuestNotUp, GuestWatch, access_address, neighbour_addresses, poke, tcp_port_open, wait_for_all)
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import (
    RUNNING, SHUTOFF, FakeClock, FakeConnection)
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_samples import sample_vif

ARP_TABLE = """IP address       HW type     Flags       HW address            Mask     Device
192.168.96.254   0x1         0x2         3a:a6:00:ab:97:50     *        eth0
10.1.0.4         0x1         0x2         FA:16:3E:47:EF:94     *        br100
10.1.0.5         0x1         0x0         00:00:00:00:00:00     *        br100
"""


def running_plan(state=RUNNING):
    domain = FakeConnection().defineXML("<domain><name>instance-00000002</name><uuid>u</uuid></domain>")
    domain.state_code = state
    spec = GuestSpec("instance-00000002")
    spec.vifs = [parse_vif(sample_vif(), "vif")]
    plan = DomainPlan(spec)
    plan.domain = domain
    return plan


def test_wait_for_all_returns_the_late_ones_at_the_deadline():
    clock = FakeClock()
    done_at = {"a": 1.0, "b": 99.0}
    late = wait_for_all(["a", "b"], lambda item: clock() >= done_at[item], timeout=5, clock=clock, sleep=clock.sleep)
    assert late == ["b"] and 5.0 <= clock.now < 6.0


def test_neighbour_table_keeps_complete_entries_only(tmp_path):
    table = tmp_path / "arp"
    table.write_text(ARP_TABLE)
    assert neighbour_addresses(str(table)) == {"3a:a6:00:ab:97:50": ["192.168.96.254"],
                                               "fa:16:3e:47:ef:94": ["10.1.0.4"]}


def test_lease_waits_until_the_mac_is_seen_and_pokes_meanwhile():
    plan, poked, table = running_plan(), [], {}
    watch = GuestWatch("lease", poke_address=poked.append, seen_addresses=lambda: table)
    assert watch(plan) is False and poked == ["10.1.0.4"]
    table["fa:16:3e:47:ef:94"] = ["10.1.0.4"]
    assert watch(plan) is True
    assert plan.addresses == [{"mac": "fa:16:3e:47:ef:94", "address": "10.1.0.4"}]


def test_lease_reports_the_address_actually_seen():
    plan = running_plan()
    seen = {"fa:16:3e:47:ef:94": ["10.1.0.99"]}
    watch = GuestWatch("lease", poke_address=lambda address: None, seen_addresses=lambda: seen)
    assert watch(plan) is True and plan.addresses[0]["address"] == "10.1.0.99"
    assert access_address(plan) == "10.1.0.99"


def test_lease_reads_the_neighbour_table_once_per_round_for_all_guests():
    first, second = running_plan(), running_plan()
    second.spec.vifs = [parse_vif(sample_vif(mac="fa:16:3e:00:00:02", address="10.1.0.5"), "vif")]
    reads, clock = [], FakeClock()
    tables = [{}, {"fa:16:3e:47:ef:94": ["10.1.0.4"]},
              {"fa:16:3e:47:ef:94": ["10.1.0.4"], "fa:16:3e:00:00:02": ["10.1.0.5"]}]
    watch = GuestWatch("lease", poke_address=lambda address: None,
                       seen_addresses=lambda: reads.append(len(reads)) or tables[len(reads) - 1])
    late = wait_for_all([first, second], watch, timeout=5, clock=clock, sleep=clock.sleep, new_round=watch.new_round)
    assert late == [] and reads == [0, 1, 2]
    assert second.addresses == [{"mac": "fa:16:3e:00:00:02", "address": "10.1.0.5"}]


def test_port_uses_the_fixed_ip_and_the_port():
    plan, tried = running_plan(), []
    watch = GuestWatch("port", port=80, port_open=lambda address, port: tried.append((address, port)) or True)
    assert watch(plan) is True and tried == [("10.1.0.4", 80)]


def test_a_guest_that_stops_while_waited_for_is_an_error():
    with pytest.raises(GuestNotUp, match="instance-00000002 stopped \\(state shutoff\\)"):
        GuestWatch("running")(running_plan(SHUTOFF))


def test_tcp_port_open_and_closed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert tcp_port_open("127.0.0.1", port, timeout=1) is True
    assert tcp_port_open("127.0.0.1", port, timeout=1) is False


def test_poke_tolerates_unreachable_addresses():
    poke("127.0.0.1")
    poke("0.0.0.0")
