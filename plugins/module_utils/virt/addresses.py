# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MAC and IPv4 values checked with netaddr, strictly on both netaddr 0.8 and 1.x.

netaddr 0.8 (the compute host's) reads '10.1' as 10.0.0.1 unless told INET_PTON, and its
IPNetwork has no such flag, so networks are split and their address part checked the same way.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput

try:
    import netaddr
except ImportError:  # reported by virt.libraries.require_libraries before any use
    netaddr = None


def unicast_mac(value, what):
    """``value`` as lower-case ``aa:bb:cc:dd:ee:ff`` if it is a unicast EUI-48 address."""
    try:
        eui = netaddr.EUI(value) if isinstance(value, str) else None  # netaddr reads numbers as MACs too
    except (netaddr.AddrFormatError, TypeError, ValueError):
        eui = None
    if eui is None or eui.version != 48:
        raise InvalidInput("%s %r: expected a MAC address such as fa:16:3e:12:34:56" % (what, value))
    number = int(eui)
    if number == 0 or (number >> 40) & 1:
        raise InvalidInput("%s %r: expected a unicast MAC address (the first octet must be even, "
                           "as in fa:16:3e:..)" % (what, value))
    digits = "%012x" % number
    return ":".join(digits[index:index + 2] for index in range(0, 12, 2))


def ipv4_address(value, what):
    address = _strict_ipv4(value)
    if address is None:
        raise InvalidInput("%s %r: expected an IPv4 address such as 10.1.0.3" % (what, value))
    return address


def ipv4_network(value, what):
    """An IPNetwork for ``a.b.c.d/n`` whose address is the network's own (no host bits)."""
    address_text, _slash, prefix_text = str(value).partition("/")
    address = _strict_ipv4(address_text)
    if address is None or not prefix_text.isdigit() or int(prefix_text) > 32:
        raise InvalidInput("%s %r: expected an IPv4 network such as 10.1.0.0/16" % (what, value))
    network = netaddr.IPNetwork("%s/%s" % (address, int(prefix_text)))
    if network.network != address:
        raise InvalidInput("%s %r: expected an IPv4 network such as 10.1.0.0/16; did you mean %s?"
                           % (what, value, network.cidr))
    return network


def ip_address(value, what):
    """An IPv4 or IPv6 address (for listen addresses)."""
    try:
        return netaddr.IPAddress(str(value), flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise InvalidInput("%s %r: expected an IP address such as 127.0.0.1" % (what, value)) from exc


def _strict_ipv4(value):
    try:
        return netaddr.IPAddress(str(value), 4, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None
