# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv4 parsing and the range arithmetic the allocator finds free addresses with.

Works with netaddr 0.8 (Debian 12's, on compute hosts) and 1.x (the controller's): only
IPAddress, IPNetwork, IPRange and IPSet are used.
"""

from __future__ import annotations

import socket

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network.netaddr_import import (
    INET_PTON, AddrFormatError, IPAddress, IPNetwork, IPRange, IPSet)


def parse_ipv4(value, what):
    try:
        address = IPAddress(str(value), 4, flags=INET_PTON)  # refuses inet_aton's legacy forms ("10.1", octal)
    except (AddrFormatError, TypeError, ValueError):
        raise InvalidInput("%s %r is not an IPv4 address (expected dotted quad, e.g. 10.1.0.2)"
                           % (what, value), value=value) from None
    return address


def parse_ipv4_network(value, what):
    """A CIDR whose address is the network address itself (10.1.0.0/16, not 10.1.0.5/16)."""
    address, slash, prefix = str(value).partition("/")
    try:
        address = parse_ipv4(address, what)
    except InvalidInput:
        address = None
    if address is None or not slash or not prefix.isdigit() or int(prefix) > 32:
        raise InvalidInput("%s %r is not an IPv4 network in CIDR form (expected e.g. 10.1.0.0/16)"
                           % (what, value), value=value)
    network = IPNetwork("%s/%d" % (address, int(prefix)))
    if network.ip != network.network:
        raise InvalidInput("%s %r has host bits set: expected the network address, %s"
                           % (what, value, network.cidr), value=value)
    return network


def parse_address_range(value, what):
    """An address, an ``a-b`` range or a CIDR, as an IPSet."""
    text = str(value)
    if "-" in text:
        first, _dash, last = text.partition("-")
        start, end = parse_ipv4(first.strip(), what), parse_ipv4(last.strip(), what)
        if start > end:
            raise InvalidInput("%s %r is an empty range: %s comes after %s" % (what, value, start, end),
                               value=value)
        return IPSet(IPRange(start, end))
    if "/" in text:
        return IPSet(parse_ipv4_network(text, what))
    return IPSet([parse_ipv4(text, what)])


def address_key(address):
    """An address string's integer, for sorting (validated strings only)."""
    return int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big")


def address_numbers(addresses):
    """Sorted integers of many address strings (validated ones, from facts).

    inet_pton is as strict as parse_ipv4 and about ten times quicker than netaddr's parsers, which
    matters for the 60,000 addresses of a nearly full /16.
    """
    return sorted({address_key(address) for address in addresses})


def lowest_free(pool, taken, count):
    """The ``count`` lowest addresses of IPSet ``pool`` not in ``taken`` (sorted integers), as strings.

    Set difference over ranges: the pool's IPRanges minus the runs of taken addresses, walked in
    order until ``count`` are found. Building an IPSet of the taken addresses instead costs
    0.1 s once they are fragmented into thousands of runs, for what is usually one address.
    """
    found = []
    for first, last in _free_ranges(pool, _runs(taken)):
        for number in range(first, min(last, first + count - len(found) - 1) + 1):
            found.append(socket.inet_ntop(socket.AF_INET, number.to_bytes(4, "big")))
        if len(found) == count:
            break
    return found


def free_count(pool, taken):
    """How many addresses of ``pool`` are not in ``taken`` (for "exhausted" messages)."""
    return sum(last - first + 1 for first, last in _free_ranges(pool, _runs(taken)))


def _free_ranges(pool, taken_runs):
    """(first, last) of every gap the taken runs leave in the pool's ranges, lowest first."""
    runs = iter(taken_runs)
    run = next(runs, None)
    for pool_range in pool.iter_ipranges():  # in address order
        start, end = pool_range.first, pool_range.last
        while start <= end:
            while run is not None and run[1] < start:
                run = next(runs, None)
            if run is None or run[0] > end:
                yield start, end
                break
            if run[0] > start:
                yield start, run[0] - 1
            start = run[1] + 1


def _runs(numbers):
    """Consecutive runs of sorted integers as (first, last) pairs."""
    runs = []
    for number in numbers:
        if runs and runs[-1][1] + 1 == number:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return runs
