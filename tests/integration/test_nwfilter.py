"""nwfilter on a real libvirtd with real TCG guests: anti-spoofing and security groups.

The guests are the test image booted by libvirt_domain on br100 of compute1, with a dnsmasq
in Nova's static mode. What a guest gets through is measured where it arrives (an HTTP
listener on the host, or an HTTP client outside the project network), and every "blocked"
is paired with a control that shows the same traffic passing without the filter, so the
assertions can fail.
"""

import time

import pytest

from guests import wait_for_console
from sandbox_ansible import run_module
from virt_instances import filter_names, host_libvirt, prepare_instance, remove_instances
from virt_network import DHCP_SERVER, LISTENER_PORT, HostListener, OutsideClient, network_state

HONEST = ("instance-00000511", "fa:16:3e:05:00:11", "10.1.0.11")
IP_SPOOFER = ("instance-00000512", "fa:16:3e:05:00:12", "10.1.0.12")
MAC_SPOOFER = ("instance-00000513", "fa:16:3e:05:00:13", "10.1.0.13")
WEB = ("instance-00000521", "fa:16:3e:05:00:21", "10.1.0.21")
GUESTS = (HONEST, IP_SPOOFER, MAC_SPOOFER, WEB)  # served by the host fixture (conftest.py)
SPOOFED_IP, SPOOFED_MAC = "10.1.0.99", "fa:16:3e:05:00:99"
BOOT_TIMEOUT = 600  # several TCG guests on a shared 2-core machine
BLOCKED_WINDOW = 20

# user_data: every second, ask the host's listener for /<tag> (the loop outlives the script).
# nc, not wget: the image's static busybox wget crashes.
PROBE_LOOP = ("(while :; do printf 'GET /%%s HTTP/1.0\\r\\n\\r\\n' | nc -w 3 %s %d; sleep 1; done) "
              "</dev/null >/dev/null 2>&1 &\n" % (DHCP_SERVER, LISTENER_PORT))
HONEST_DATA = "#!/bin/sh\n" + PROBE_LOOP % "honest" + "echo probe started\n"
# udhcpc is stopped first: a renewal would put the real address back.
IP_SPOOF_DATA = ("#!/bin/sh\nkillall udhcpc\nip addr flush dev eth0\nip addr add %s/16 dev eth0\n" % SPOOFED_IP
                 + PROBE_LOOP % "ipspoof" + "echo spoof claimed %s\n" % SPOOFED_IP)
MAC_SPOOF_DATA = ("#!/bin/sh\nkillall udhcpc\nip link set eth0 down\nip link set eth0 address %s\n"
                  "ip link set eth0 up\n" % SPOOFED_MAC + PROBE_LOOP % "macspoof" + "echo spoof claimed %s\n"
                  % SPOOFED_MAC)


def instance_filter(guest, groups=("default",)):
    return {"instance_name": guest[0], "mac": guest[1], "security_groups": list(groups)}


def boot(sandbox, host, guest_image, guests_with_data, **wait):
    """Define and start guests in one libvirt_domain call; returns their console logs."""
    specs = [prepare_instance(host, guest_image, name, mac, ip, user_data=data)
             for (name, mac, ip), data in guests_with_data]
    args = {"state": "running", "wait_for": "lease", "wait_timeout": BOOT_TIMEOUT, "instances": specs}
    result = run_module(sandbox, host.name, "libvirt_domain", dict(args, **wait))
    assert not result["failed"], result.get("msg")
    return {name: host.instance_dir(name) / "console.log" for (name, _mac, _ip), _data in guests_with_data}


def test_filters_check_real_then_idempotent(sandbox, host):
    before = filter_names(host)
    args = {"base_filters": True, "security_groups": [{"name": "web", "rules": [{"protocol": "tcp", "port": 8080}]}],
            "instance_filters": [instance_filter(HONEST, ("default", "web"))]}
    checked = run_module(sandbox, host.name, "nwfilter", args, check=True, diff=True)
    assert checked["changed"] and not checked["failed"]
    assert {entry["action"] for entry in checked["filters"]} == {"created"}
    assert any("dstportstart=\"8080\"" in entry["after"] for entry in checked["diff"])
    assert filter_names(host) == before

    applied = run_module(sandbox, host.name, "nwfilter", args)
    assert applied["changed"]
    uuids = {entry["name"]: entry["uuid"] for entry in applied["filters"]}
    assert set(uuids) <= set(filter_names(host))
    for check in (True, False):
        again = run_module(sandbox, host.name, "nwfilter", args, check=check)
        assert again["changed"] is False and {e["action"] for e in again["filters"]} == {"unchanged"}

    args["security_groups"][0]["rules"][0]["port"] = 8081
    changed = run_module(sandbox, host.name, "nwfilter", args, diff=True)
    assert [(e["name"], e["action"]) for e in changed["filters"] if e["action"] != "unchanged"] == [
        ("nova-secgroup-web", "updated")]
    for entry in changed["filters"]:
        assert entry["uuid"] == uuids[entry["name"]]  # redefined under its own uuid
    with host_libvirt(host) as conn:
        assert "8081" in conn.nwfilterLookupByName("nova-secgroup-web").XMLDesc(0)

    removal = dict(args, state="absent", security_groups=[{"name": "web"}, {"name": "default"}])
    removed = run_module(sandbox, host.name, "nwfilter", removal)
    assert removed["changed"] and filter_names(host) == before
    assert run_module(sandbox, host.name, "nwfilter", removal)["changed"] is False


@pytest.mark.parametrize("args, message", [
    ({"security_groups": [{"name": "web", "rules": [{"protocol": "tcp", "port": 70000}]}]}, "port 70000"),
    ({"security_groups": [{"name": "web", "rules": [{"protocol": "tcp", "port_range_min": 90,
                                                     "port_range_max": 80}]}]}, "port_range_min 90"),
    ({"security_groups": [{"name": "web", "rules": [{"protocol": "tcp", "cidr": "10.1.0.0/33"}]}]}, "cidr"),
    ({"security_groups": [{"name": "web server"}]}, "name 'web server'"),
    ({"base_filters": True, "instance_filters": [{"instance_name": "instance-1", "mac": "01:00:5e:00:00:01"}]},
     "unicast"),
    ({"base_filters": True, "instance_filters": [{"instance_name": "instance-1", "mac": "fa:16:3e:00:00:01",
                                                 "security_groups": ["nosuchgroup"]}]}, "nosuchgroup"),
])
def test_bad_input_changes_nothing(sandbox, host, args, message):
    before = filter_names(host)
    result = run_module(sandbox, host.name, "nwfilter", args)
    assert result["failed"] and message in result["msg"]
    assert filter_names(host) == before


def test_spoofing_guests_get_nothing_through_while_an_honest_one_does(sandbox, host, guest_image):
    """A guest claiming another IP, and one sending from another MAC, reach nothing; the honest one does.

    Control: with the spoofers' filters emptied (same running guests), their traffic arrives; with
    the filters put back by the module, it stops again.
    """
    spoofers = [IP_SPOOFER, MAC_SPOOFER]
    filters = run_module(sandbox, host.name, "nwfilter", {"base_filters": True, "instance_filters": [
        instance_filter(guest) for guest in [HONEST] + spoofers]})
    assert not filters["failed"], filters.get("msg")
    listener = HostListener(host)
    try:
        consoles = boot(sandbox, host, guest_image, [(HONEST, HONEST_DATA), (IP_SPOOFER, IP_SPOOF_DATA),
                                                     (MAC_SPOOFER, MAC_SPOOF_DATA)])
        for guest, claim in ((IP_SPOOFER, SPOOFED_IP), (MAC_SPOOFER, SPOOFED_MAC)):
            wait_for_console(consoles[guest[0]], r"(?m)^spoof claimed %s\r?$" % claim, timeout=BOOT_TIMEOUT)
        honest_before = len(listener.seen("/honest"))
        time.sleep(BLOCKED_WINDOW)
        assert listener.seen("/ipspoof") == [] and listener.seen("/macspoof") == []
        assert len(listener.seen("/honest")) > honest_before, "the honest guest should get through meanwhile"
        assert set(listener.seen("/honest")) == {HONEST[2]}

        _empty_filters(host, spoofers)  # the control: same guests, no filter
        assert listener.wait_for("/ipspoof", 90) and set(listener.seen("/ipspoof")) == {SPOOFED_IP}
        assert listener.wait_for("/macspoof", 90) and set(listener.seen("/macspoof")) == {MAC_SPOOFER[2]}

        restored = run_module(sandbox, host.name, "nwfilter", {"instance_filters": [
            instance_filter(guest) for guest in spoofers]})
        assert [e["action"] for e in restored["filters"]] == ["updated", "updated"]
        time.sleep(5)  # a probe already past the filter may still land
        counts = len(listener.seen("/ipspoof")), len(listener.seen("/macspoof"))
        time.sleep(BLOCKED_WINDOW)
        assert (len(listener.seen("/ipspoof")), len(listener.seen("/macspoof"))) == counts
    finally:
        listener.stop()
        remove_instances(host, [HONEST[0]] + [guest[0] for guest in spoofers])


def _empty_filters(host, guests):
    """Redefine the guests' filters (same uuid) with nothing in them; libvirt re-applies at once."""
    with host_libvirt(host) as conn:
        for name, mac, _ip in guests:
            nwfilter = conn.nwfilterLookupByName("nova-instance-%s-%s" % (name, mac.replace(":", "")))
            conn.nwfilterDefineXML("<filter name='%s' chain='root'><uuid>%s</uuid></filter>"
                                   % (nwfilter.name(), nwfilter.UUIDString()))


def test_security_group_opens_and_closes_ports_on_a_running_guest(sandbox, host, guest_image):
    """From outside the project network: 80 and ping pass under default, 8080 does not, until web allows it."""
    web_closed = {"name": "web", "rules": [{"protocol": "tcp", "port": 443}]}
    web_open = {"name": "web", "rules": [{"protocol": "tcp", "port": 443}, {"protocol": "tcp", "port": 8080}]}
    args = {"base_filters": True, "security_groups": [web_closed],
            "instance_filters": [instance_filter(WEB, ("default", "web"))]}
    assert not run_module(sandbox, host.name, "nwfilter", args)["failed"]
    client = None
    try:
        boot(sandbox, host, guest_image, [(WEB, None)], wait_for="port", wait_port=80)
        client = OutsideClient(sandbox, host)
        page = client.http_get(WEB[2], 80)
        assert page == "novalite-guest vm-00000521 %s %s\n" % (WEB[2], WEB[1]), network_state(host)
        assert client.pings(WEB[2])
        assert client.http_get(WEB[2], 8080) is None

        opened = run_module(sandbox, host.name, "nwfilter", dict(args, security_groups=[web_open]), diff=True)
        assert [(e["name"], e["action"]) for e in opened["filters"] if e["action"] != "unchanged"] == [
            ("nova-secgroup-web", "updated")]
        assert client.http_get(WEB[2], 8080) == page

        run_module(sandbox, host.name, "nwfilter", args)
        assert client.http_get(WEB[2], 8080) is None
        assert client.http_get(WEB[2], 80) == page
    finally:
        if client:
            client.remove()
        remove_instances(host, [WEB[0]])


def test_undefine_waits_while_a_guest_uses_the_filter(sandbox, host, guest_image):
    args = {"base_filters": True, "instance_filters": [instance_filter(HONEST)]}
    run_module(sandbox, host.name, "nwfilter", args)
    name = "nova-instance-%s-%s" % (HONEST[0], HONEST[1].replace(":", ""))
    try:
        boot(sandbox, host, guest_image, [(HONEST, None)])
        started = time.monotonic()
        refused = run_module(sandbox, host.name, "nwfilter", {"state": "absent", "in_use_timeout": 3,
                                                              "instance_filters": [instance_filter(HONEST)]})
        assert refused["failed"] and "still in use after 3s" in refused["msg"]
        assert time.monotonic() - started >= 3
        assert name in filter_names(host)
    finally:
        remove_instances(host, [HONEST[0]])
    removed = run_module(sandbox, host.name, "nwfilter", {"state": "absent",
                                                          "instance_filters": [instance_filter(HONEST)]})
    assert [e["action"] for e in removed["filters"]] == ["removed"] and name not in filter_names(host)
