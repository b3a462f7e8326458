"""nwfilter with firewall_driver=iptables on a real libvirtd with real TCG guests: the security
groups are iptables chains, the interface's nwfilter keeps only nova-base, and both still hold.

As in test_nwfilter.py, every "blocked" is paired with a control that shows the same traffic
passing: a port opened by a group change on the running guest, and a spoofer whose filter is
emptied.
"""

import time

from guests import wait_for_console
from sandbox_ansible import run_module
from test_nwfilter import BLOCKED_WINDOW, BOOT_TIMEOUT, HONEST_DATA, IP_SPOOF_DATA, _empty_filters
from virt_instances import filter_names, host_libvirt, prepare_instance, remove_instances
from virt_network import HostListener, OutsideClient, network_state

from ansible_collections.novalite.compute.plugins.plugin_utils.module_specs import instance_filters

WEB = ("instance-00000531", "fa:16:3e:05:00:31", "10.1.0.31")
IP_SPOOFER = ("instance-00000532", "fa:16:3e:05:00:32", "10.1.0.32")
SPOOFED_IP = "10.1.0.99"
GUESTS = (WEB, IP_SPOOFER)  # served by the host fixture (conftest.py)
WEB_CLOSED = {"name": "web", "rules": [{"protocol": "tcp", "port": 443}]}
WEB_OPEN = {"name": "web", "rules": [{"protocol": "tcp", "port": 443}, {"protocol": "tcp", "port": 8080}]}


def chains(host):
    """The filter table's rules as iptables-save prints them."""
    return host.run(["iptables-save", "-t", "filter"]).stdout


def wait_for_page(client, address, timeout=BOOT_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = client.http_get(address, 80)
        if page:
            return page
        time.sleep(3)
    return None


def test_groups_as_chains_open_and_close_ports_and_anti_spoofing_still_holds(sandbox, host, guest_image):
    specs = {guest[0]: prepare_instance(host, guest_image, guest[0], guest[1], guest[2], user_data=data)
             for guest, data in ((WEB, HONEST_DATA), (IP_SPOOFER, IP_SPOOF_DATA))}
    records = [dict(spec, security_groups=["default", "web"]) for spec in specs.values()]
    args = {"firewall_driver": "iptables", "base_filters": True, "security_groups": [WEB_CLOSED],
            "instance_filters": instance_filters(records)}
    listener = HostListener(host)
    client = None
    try:
        defined = run_module(sandbox, host.name, "nwfilter", args)
        assert not defined["failed"], defined.get("msg")
        assert not [name for name in filter_names(host) if name.startswith("nova-secgroup-")]
        with host_libvirt(host) as conn:
            xml = conn.nwfilterLookupByName("nova-instance-%s-%s" % (WEB[0], WEB[1].replace(":", ""))).XMLDesc(0)
        assert "nova-base" in xml and "nova-firewall-base" not in xml
        assert "-A FORWARD -d %s/32 -j nova-vif-%s" % (WEB[2], WEB[1].replace(":", "")) in chains(host)

        started = run_module(sandbox, host.name, "libvirt_domain", {
            "state": "running", "wait_for": "lease", "wait_timeout": BOOT_TIMEOUT, "instances": list(specs.values())})
        assert not started["failed"], started.get("msg")
        client = OutsideClient(sandbox, host)
        page = wait_for_page(client, WEB[2])
        assert page == "novalite-guest vm-00000531 %s %s\n" % (WEB[2], WEB[1]), network_state(host)
        assert client.pings(WEB[2])
        assert client.http_get(WEB[2], 8080) is None

        opened = run_module(sandbox, host.name, "nwfilter", dict(args, security_groups=[WEB_OPEN]), diff=True)
        assert opened["changed"] and [e["action"] for e in opened["filters"]] == ["unchanged"] * len(opened["filters"])
        assert "-A nova-sg-web -p tcp -m tcp --dport 8080 -j ACCEPT" in opened["diff"][-1]["after"]
        assert client.http_get(WEB[2], 8080) == page
        closed = run_module(sandbox, host.name, "nwfilter", args)
        assert closed["changed"] and client.http_get(WEB[2], 8080) is None
        assert client.http_get(WEB[2], 80) == page
        assert run_module(sandbox, host.name, "nwfilter", args)["changed"] is False

        # anti-spoofing: nova-base alone still stops the guest that claims another address
        wait_for_console(host.instance_dir(IP_SPOOFER[0]) / "console.log",
                         r"(?m)^spoof claimed %s\r?$" % SPOOFED_IP, timeout=BOOT_TIMEOUT)
        honest_before = len(listener.seen("/honest"))
        time.sleep(BLOCKED_WINDOW)
        assert listener.seen("/ipspoof") == []
        assert len(listener.seen("/honest")) > honest_before, "the honest guest should get through meanwhile"
        _empty_filters(host, [IP_SPOOFER])  # the control: same guest, no filter
        assert listener.wait_for("/ipspoof", 90) and set(listener.seen("/ipspoof")) == {SPOOFED_IP}
    finally:
        listener.stop()
        if client:
            client.remove()
        remove_instances(host, [WEB[0], IP_SPOOFER[0]])
        removal = dict(args, state="absent", security_groups=[WEB_OPEN])
        removed = run_module(sandbox, host.name, "nwfilter", removal)
    assert not removed["failed"], removed.get("msg")
    assert "nova-vif-" not in chains(host) and "nova-sg-web" not in chains(host)
