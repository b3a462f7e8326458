# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""netaddr for this package, or a clear message when the host lacks it.

Importing without netaddr must still work (ansible-doc and argument-spec introspection load
the module); ``require_netaddr`` fails cleanly before anything uses it.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

try:
    from netaddr import INET_PTON, EUI, AddrFormatError, IPAddress, IPNetwork, IPRange, IPSet, mac_unix_expanded
    HAS_NETADDR = True
except ImportError:
    HAS_NETADDR = False
    INET_PTON, AddrFormatError = 1, ValueError
    EUI = IPAddress = IPNetwork = IPRange = IPSet = mac_unix_expanded = None

__all__ = ["INET_PTON", "EUI", "AddrFormatError", "IPAddress", "IPNetwork", "IPRange", "IPSet", "mac_unix_expanded",
           "require_netaddr"]


def require_netaddr():
    if not HAS_NETADDR:
        raise NovaliteError("the python netaddr library is required on this host (Debian: python3-netaddr)")
