# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for a whole batch of guests at once: running, lease seen, TCP port open, or off.

Nova's ``LibvirtDriver.spawn`` polled ``_wait_for_boot`` for RUNNING without a timeout; here
every wait has one, and all guests of the call are polled in the same rounds, so a batch waits
about as long as its slowest.

The waits take domain plans (``domain.DomainPlan``) and use only their ``domain``, ``spec``
(``name``, ``vifs``) and ``addresses``.

Seeing a guest on its network from the host, without anything inside the guest: a real guest
prints nothing the host can read, so "it has its lease" is decided from the host's neighbour
table. The guest's MAC appears there with an address once dnsmasq hands out the lease (dnsmasq
enters the client in the table to answer it) or once the guest answers ARP for its address. To
make the kernel ask, the host sends one empty UDP datagram to the expected address's discard
port (9): the ARP request goes out whatever the guest's firewall does with the datagram. This
needs the host to have an address in the subnet (the DHCP-server address on the bridge, as
nova-network leaves it).

The table is read from /proc/net/arp (complete entries only). libvirt's own reader of it,
``interfaceAddresses`` with the ARP source, fails on current kernels with libvirt 9.0
("internal error: wrong nlmsg len"), and the kernel's file has been stable for decades.
"""

from __future__ import annotations

import socket
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    ACTIVE_STATES, power_state, qemu_log_tail)

POLL_SECONDS = 0.5
WAIT_KINDS = ("none", "running", "lease", "port")
UP_STATES = ("running", "blocked")
DISCARD_PORT = 9
ARP_TABLE = "/proc/net/arp"
ATF_COM = 0x2  # the entry has a hardware address (include/uapi/linux/if_arp.h)
CONNECT_TIMEOUT = 2.0


class GuestNotUp(NovaliteError):
    """A guest stopped, or did not come up within the timeout."""


# --- seeing guests on the network from the host -----------------------------------------------

def poke(address):
    """Make the kernel resolve ``address`` (an ARP request on the bridge)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.sendto(b"", (address, DISCARD_PORT))
        except OSError:  # unreachable for now: the next round tries again
            pass


def neighbour_addresses(arp_table=ARP_TABLE):
    """``{mac: [IPv4 address, ...]}`` of the complete entries of the host's neighbour table."""
    seen = {}
    with open(arp_table, encoding="ascii", errors="replace") as table:
        next(table, None)  # the column headings
        for line in table:
            fields = line.split()
            if len(fields) >= 4 and int(fields[2], 16) & ATF_COM:
                seen.setdefault(fields[3].lower(), []).append(fields[0])
    return seen


def forget_neighbour(run_command, address):
    """Drop a stale neighbour entry, so a restarted guest is not 'seen' before it is up again."""
    run_checked(run_command, ["ip", "neigh", "flush", "to", address])


def tcp_port_open(address, port, timeout=CONNECT_TIMEOUT):
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:  # refused, unreachable or timed out: not up yet
        return False


# --- waiting ------------------------------------------------------------------------------------

def wait_for_all(items, is_done, timeout, clock=time.monotonic, sleep=time.sleep, new_round=lambda: None):
    """Poll ``is_done(item)`` for each item until every one is done; returns those still not done.

    ``new_round()`` runs before each round, so a check can share what it reads among the items of a round.
    """
    deadline = clock() + timeout
    pending = list(items)
    while True:
        new_round()
        pending = [item for item in pending if not is_done(item)]
        if not pending or clock() >= deadline:
            return pending
        sleep(POLL_SECONDS)


def is_off(plan):
    return power_state(plan.domain, plan.spec.name) not in ACTIVE_STATES


class GuestWatch:
    """``watch(plan)`` is true once the guest is up in the sense of ``kind``.

    Pass ``watch.new_round`` to wait_for_all: the neighbour table is then read once per poll round.
    """

    def __init__(self, kind, port=None, poke_address=poke, seen_addresses=neighbour_addresses, port_open=tcp_port_open):
        self.kind = kind
        self.port = port
        self.poke_address = poke_address
        self.seen_addresses = seen_addresses
        self.port_open = port_open
        self._round_neighbours = None

    def new_round(self):
        self._round_neighbours = None

    def __call__(self, plan):
        power = power_state(plan.domain, plan.spec.name)
        if power not in UP_STATES:
            if power not in ACTIVE_STATES:
                raise GuestNotUp("%s stopped (state %s) while waiting for it to come up\nlast lines of the QEMU "
                                 "log:\n%s" % (plan.spec.name, power, qemu_log_tail(plan.spec.name)),
                                 instance=plan.spec.name)
            return False
        if self.kind == "lease":
            return self._lease_seen(plan)
        if self.kind == "port":
            return self.port_open(access_address(plan), self.port)
        return True

    def _neighbours(self):
        """The neighbour table, read at the first lease check of a round and shared by the round's guests."""
        if self._round_neighbours is None:
            self._round_neighbours = self.seen_addresses()
        return self._round_neighbours

    def _lease_seen(self, plan):
        seen = self._neighbours()
        plan.addresses = [{"mac": vif.mac, "address": _preferred(seen.get(vif.mac, []), vif.address)}
                          for vif in plan.spec.vifs]
        missing = [vif for vif in plan.spec.vifs if not seen.get(vif.mac)]
        for vif in missing:
            if vif.address:
                self.poke_address(vif.address)
        return not missing


def _preferred(addresses, expected):
    if expected in addresses:
        return expected
    return addresses[0] if addresses else None


def access_address(plan):
    """The first NIC's address: the one seen for its lease, else its fixed IP from network_info."""
    for entry in plan.addresses:
        if entry["address"]:
            return entry["address"]
    return next(vif.address for vif in plan.spec.vifs if vif.address)


def not_up_error(kind, timeout, plans):
    names = ", ".join(plan.spec.name for plan in plans)
    logs = "\n".join("%s QEMU log:\n%s" % (plan.spec.name, qemu_log_tail(plan.spec.name)) for plan in plans)
    return GuestNotUp("timed out after %ss waiting for %s of %s\n%s" % (timeout, kind, names, logs),
                      instances=[plan.spec.name for plan in plans])
