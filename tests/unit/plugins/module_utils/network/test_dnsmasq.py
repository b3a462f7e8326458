import os
import signal

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.network.dnsmasq import (
    DnsmasqFiles, DnsmasqProcess, dns_hosts_text, dnsmasq_arguments, hosts_file_text)

FILES = DnsmasqFiles("/var/lib/novalite/networks", "br100")


def test_novas_flags_with_grizzlys_netmask(network):
    assert dnsmasq_arguments(network, "10.1.0.3", FILES) == [
        "--strict-order", "--bind-interfaces", "--conf-file=", "--domain=novalocal",
        "--pid-file=/var/lib/novalite/networks/nova-br100.pid", "--listen-address=10.1.0.3",
        "--except-interface=lo", "--dhcp-range=set:private,10.1.0.2,static,255.255.0.0,120s",
        "--dhcp-lease-max=65536", "--dhcp-hostsfile=/var/lib/novalite/networks/nova-br100.conf", "--leasefile-ro",
        "--no-hosts", "--addn-hosts=/var/lib/novalite/networks/nova-br100.hosts", "--no-resolv", "--server=8.8.4.4"]


def test_dns_flags_follow_novas_use_network_dns_servers(make_network):
    both = dnsmasq_arguments(make_network(dns2="203.0.113.53"), "10.1.0.3", FILES)
    assert both[-3:] == ["--no-resolv", "--server=8.8.4.4", "--server=203.0.113.53"]
    single_host = dnsmasq_arguments(make_network(multi_host=False, dns1=None), "10.1.0.1", FILES)
    assert single_host[-1] == "--leasefile-ro"  # no addn-hosts, the host's resolver and /etc/hosts
    assert dnsmasq_arguments(make_network(dns1=None), "10.1.0.3", FILES)[-2:] == [
        "--no-hosts", "--addn-hosts=/var/lib/novalite/networks/nova-br100.hosts"]


def test_dns_hosts_file_lists_every_instance_with_the_domain(make_network):
    names = {"10.1.0.10": "vm10", "10.1.0.2": "vm1"}
    assert dns_hosts_text(make_network(), names) == "10.1.0.2\tvm1.novalocal\n10.1.0.10\tvm10.novalocal\n"
    assert dns_hosts_text(make_network(multi_host=False), names) is None


def test_hosts_file_has_one_novas_line_per_fixed_ip_in_address_order(network):
    records = [{"mac": "fa:16:3e:00:00:0a", "hostname": "vm10", "address": "10.1.0.10"},
               {"mac": "fa:16:3e:5a:f4:23", "hostname": "vm1", "address": "10.1.0.2"}]
    assert hosts_file_text(network, records) == ("fa:16:3e:5a:f4:23,vm1.novalocal,10.1.0.2\n"
                                                 "fa:16:3e:00:00:0a,vm10.novalocal,10.1.0.10\n")


@pytest.fixture
def proc(tmp_path):
    """A fake /proc and pid file: ``add(pid, argv, state)`` makes a process."""
    files = DnsmasqFiles(str(tmp_path), "br100")
    signals = []

    def add(pid, argv, state="S"):
        os.makedirs(tmp_path / "proc" / str(pid))
        (tmp_path / "proc" / str(pid) / "cmdline").write_text("\0".join(argv) + "\0")
        (tmp_path / "proc" / str(pid) / "stat").write_text("%d (x) %s 1 2 3" % (pid, state))
        (tmp_path / "nova-br100.pid").write_text("%d\n" % pid)

    def send(pid, sig):
        signals.append((pid, sig))
    process = DnsmasqProcess(files, str(tmp_path / "proc"), send, sleep=lambda s: None)
    return process, add, signals


def test_pid_file_is_trusted_only_for_a_live_dnsmasq_with_our_hosts_file(proc):
    process, add, _signals = proc
    assert process.running() == (None, None)
    ours = ["/usr/sbin/dnsmasq", "--dhcp-hostsfile=" + process.files.hosts]
    add(10, ours)
    assert process.running() == (10, ours[1:])
    add(11, ["/usr/sbin/dnsmasq", "--dhcp-hostsfile=/elsewhere/nova-br100.conf"])
    assert process.running() == (None, None)
    add(12, ["/usr/bin/python3", "--dhcp-hostsfile=" + process.files.hosts])
    assert process.running() == (None, None)
    add(13, ours, state="Z")
    assert process.running() == (None, None)
    (process.files.pid and open(process.files.pid, "w").write("garbage"))
    assert process.running() == (None, None)


def test_stop_escalates_to_sigkill_and_gives_up_loudly(proc, monkeypatch):
    process, add, signals = proc
    add(20, ["dnsmasq"])
    monkeypatch.setattr("ansible_collections.novalite.compute.plugins.module_utils.network."
                        "process.STOP_SECONDS", 0.01)
    with pytest.raises(NovaliteError, match="dnsmasq pid 20 did not stop"):
        process.stop(20)
    assert signals == [(20, signal.SIGTERM), (20, signal.SIGKILL)]
