# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seeing a guest on its network from the host, without anything inside the guest.

A real guest prints nothing the host can read, so "it has its lease" is decided from the
host's neighbour table: the guest's MAC appears there with an address once dnsmasq hands out
the lease (dnsmasq enters the client in the table to answer it) or once the guest answers ARP
for its address. To make the kernel ask, the host sends one empty UDP datagram to the expected
address's discard port (9): the ARP request goes out whatever the guest's firewall does with
the datagram. This needs the host to have an address in the subnet (the DHCP-server address on
the bridge, as nova-network leaves it).

The table is read from /proc/net/arp (complete entries only). libvirt's own reader of it,
``interfaceAddresses`` with the ARP source, fails on current kernels with libvirt 9.0
("internal error: wrong nlmsg len"), and the kernel's file has been stable for decades.
"""

from __future__ import annotations

import socket

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked

DISCARD_PORT = 9
ARP_TABLE = "/proc/net/arp"
ATF_COM = 0x2  # the entry has a hardware address (include/uapi/linux/if_arp.h)
CONNECT_TIMEOUT = 2.0


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
