# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MAC addresses as Nova's ``utils.generate_mac_address`` made them: fa:16:3e:xx:xx:xx."""

from __future__ import annotations

import random

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.network.netaddr_import import EUI, AddrFormatError, mac_unix_expanded

NOVA_OUI = (0xfa, 0x16, 0x3e)
# Nova tried 5 times per MAC against its database; 2^24 values make 64 plenty even for a full /16.
ATTEMPTS_PER_MAC = 64


def normalize_mac(value, what="mac"):
    """``value`` as lower-case colon-separated EUI-48; refuses malformed and multicast MACs."""
    try:
        eui = EUI(str(value), dialect=mac_unix_expanded)
    except (AddrFormatError, TypeError, ValueError):
        eui = None
    if eui is None or eui.version != 48 or "\n" in str(value):
        raise InvalidInput("%s %r is not a MAC address (expected six hex octets, e.g. fa:16:3e:12:34:56)"
                           % (what, value), value=value)
    first_octet = int(eui) >> 40
    if first_octet & 1:
        raise InvalidInput("%s %r is a multicast MAC address: a NIC needs a unicast one" % (what, value),
                           value=value)
    if int(eui) == 0:
        raise InvalidInput("%s %r is the all-zero MAC address" % (what, value), value=value)
    return str(eui)


def generate_macs(count, taken, rng=None):
    """``count`` new random fa:16:3e MACs, unique among themselves and not in ``taken``."""
    rng = rng or random.SystemRandom()
    unavailable = set(taken)
    macs = []
    for _index in range(count):
        mac = _one_mac(rng, unavailable)
        unavailable.add(mac)
        macs.append(mac)
    return macs


def _one_mac(rng, unavailable):
    for _attempt in range(ATTEMPTS_PER_MAC):
        octets = NOVA_OUI + tuple(rng.randint(0, 0xff) for _octet in range(3))
        mac = ":".join("%02x" % octet for octet in octets)
        if mac not in unavailable:
            return mac
    raise NovaliteError("could not find a free fa:16:3e MAC address in %d attempts" % ATTEMPTS_PER_MAC)
