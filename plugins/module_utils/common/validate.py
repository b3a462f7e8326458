# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every input check of the collection, one rule per kind of value.

Each check takes the value and ``what`` (how the message names it, e.g. ``instances[0].mac``),
returns the value in its canonical form and raises ``InvalidInput`` naming the bad value and
what was expected. The controller's request step and the modules on the hosts call the same
functions, so a value the request step accepted is never refused later on a host.

Values end up in command lines, comma-separated files (dnsmasq), XML and paths, so anything
that could split a field (commas, spaces, newlines) is refused here rather than escaped later.
Patterns are matched with ``fullmatch``: ``$`` would let a trailing newline through.

netaddr: Debian 12's 0.8 on compute hosts and 1.x on the controller; only IPAddress,
IPNetwork, IPRange, IPSet and EUI are used, and every IPv4 parse is strict (INET_PTON: no
``10.1`` or octal forms, which 0.8 accepts otherwise).
"""

from __future__ import annotations

import os
import re
import uuid as uuid_module

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError

try:
    from netaddr import EUI, INET_PTON, AddrFormatError, IPAddress, IPNetwork, IPRange, IPSet, mac_unix_expanded
    HAS_NETADDR = True
except ImportError:  # ansible-doc and argument-spec introspection import modules without it
    HAS_NETADDR = False
    INET_PTON, AddrFormatError = 1, ValueError
    EUI = IPAddress = IPNetwork = IPRange = IPSet = mac_unix_expanded = None

# IFNAMSIZ is 16 with the NUL; iproute2 also refuses "/", ":" and whitespace.
DEVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
DNS_DOMAIN_MAX = 253
# A dnsmasq tag (set:<label>) sits inside a comma-separated option.
DNSMASQ_TAG = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# Names that become paths (<instances_path>/<name>), libvirt domain and filter names and log
# file names: no leading '.', '-' or '_' (hidden files, option-looking words, _base).
RESOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
RESOURCE_NAME_MAX = 64
# Directories of instances_path that are not instances (Nova's _base cache, the locks).
RESERVED_INSTANCE_NAMES = ("_base", "locks")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
DISPLAY_NAME_MAX = 255  # Nova's instances.display_name column


def require_netaddr():
    if not HAS_NETADDR:
        raise NovaliteError("the python netaddr library is required here (Debian: python3-netaddr)")


# --- structure -------------------------------------------------------------------------------

def mapping(value, what):
    if not isinstance(value, dict):
        raise InvalidInput("%s: expected a mapping, got %r" % (what, value), value=value)
    return value


def sequence(value, what):
    """A list; None is an empty one."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput("%s: expected a list, got %r" % (what, value), value=value)
    return value


def reject_unknown(fields, known, what):
    """Refuse keys outside ``known``. Ansible fills unset suboptions with None, so those pass."""
    unknown = sorted(str(key) for key, value in fields.items() if key not in known and value is not None)
    if unknown:
        raise InvalidInput("%s: unknown field(s) %s; expected some of %s"
                           % (what, ", ".join(unknown), ", ".join(sorted(known))), value=unknown)


def reject_duplicates(values, what):
    seen = set()
    for value in values:
        if value in seen:
            raise InvalidInput("%s %s appears twice; each must be unique" % (what, value), value=value)
        seen.add(value)


def choice(value, choices, what):
    if value not in choices:
        raise InvalidInput("%s %r: expected one of %s" % (what, value, ", ".join(map(str, choices))), value=value)
    return value


def whole_number(value, what, minimum=0, maximum=None):
    """An int (not a bool) from ``minimum`` to ``maximum`` (None: unbounded)."""
    if (isinstance(value, bool) or not isinstance(value, int) or value < minimum
            or (maximum is not None and value > maximum)):
        bounds = "from %d to %d" % (minimum, maximum) if maximum is not None else "of at least %d" % minimum
        raise InvalidInput("%s %r: expected a whole number %s" % (what, value, bounds), value=value)
    return value


def flag(value, what):
    if not isinstance(value, bool):
        raise InvalidInput("%s %r: expected true or false" % (what, value), value=value)
    return value


# --- text and names --------------------------------------------------------------------------

def one_line(value, what, max_length=None):
    """Free text kept in facts or shown in tables: one line, no control characters. None passes."""
    if value is None:
        return None
    if not isinstance(value, str) or CONTROL_CHARACTERS.search(value):
        raise InvalidInput("%s %r: expected text on one line, without control characters" % (what, value),
                           value=value)
    if max_length is not None and len(value) > max_length:
        raise InvalidInput("%s %r is %d characters long: at most %d are allowed"
                           % (what, value, len(value), max_length), value=value)
    return value


def display_name(value, what="name"):
    """An instance's display name (Nova's display_name): one line, 1 to 255 characters."""
    if not value:
        raise InvalidInput("%s is empty: expected the instance's name" % what, value=value)
    return one_line(value, what, DISPLAY_NAME_MAX)


def resource_name(value, what):
    """A name that may become a path component, a libvirt domain or filter name or a log file name."""
    return _matching(RESOURCE_NAME, value, what, "expected 1 to %d letters, digits, '_', '.' or '-', starting "
                     "with a letter or digit" % RESOURCE_NAME_MAX)


def instance_name(value, what="instance name"):
    """The libvirt name of an instance (``instance-0000000a``), also its directory's name."""
    resource_name(value, what)
    if value in RESERVED_INSTANCE_NAMES or ".." in value:
        raise InvalidInput("%s %r is not usable as an instance directory (not %s, no '..')"
                           % (what, value, " or ".join(RESERVED_INSTANCE_NAMES)), value=value)
    return value


def device_name(value, what):
    return _matching(DEVICE_NAME, value, what, "expected a network device name: 1 to 15 letters, digits, "
                     "'_', '.' or '-', starting with a letter or digit")


def dns_label(value, what):
    return _matching(DNS_LABEL, value, what, "expected a DNS label: 1 to 63 letters, digits or '-', "
                     "not starting or ending with '-'")


def dns_domain(value, what):
    labels = value.split(".") if isinstance(value, str) else [None]
    if len(value or "") > DNS_DOMAIN_MAX or not all(isinstance(x, str) and DNS_LABEL.fullmatch(x) for x in labels):
        raise InvalidInput("%s %r: expected a DNS domain of dot-separated DNS labels, e.g. novalocal"
                           % (what, value), value=value)
    return value


def dnsmasq_tag(value, what):
    return _matching(DNSMASQ_TAG, value, what, "expected 1 to 64 letters, digits, '_', '.' or '-' "
                     "(it becomes a dnsmasq tag)")


def uuid(value, what):
    """The canonical (lower-case, hyphenated) form of a UUID, as libvirt and Glance print it."""
    try:
        return str(uuid_module.UUID(str(value)))
    except ValueError:
        raise InvalidInput("%s %r: expected a UUID such as e011b388-163b-4080-a083-bb63ebed7f6a"
                           % (what, value), value=value) from None


def absolute_path(value, what):
    if not isinstance(value, str) or not os.path.isabs(value) or CONTROL_CHARACTERS.search(value):
        raise InvalidInput("%s %r: expected an absolute path" % (what, value), value=value)
    return os.path.normpath(value)


# --- addresses -------------------------------------------------------------------------------

def ipv4_address(value, what):
    """A netaddr IPAddress for a dotted quad (not ``10.1``, not octal)."""
    require_netaddr()
    try:
        return IPAddress(str(value), 4, flags=INET_PTON)
    except (AddrFormatError, TypeError, ValueError):
        raise InvalidInput("%s %r: expected an IPv4 address such as 10.1.0.3" % (what, value), value=value) from None


def optional_ipv4_address(value, what):
    """The address as a string, or None for None or ""."""
    return None if value in (None, "") else str(ipv4_address(value, what))


def ip_address(value, what):
    """An IPv4 or IPv6 address (listen addresses)."""
    require_netaddr()
    try:
        return IPAddress(str(value), flags=INET_PTON)
    except (AddrFormatError, TypeError, ValueError):
        raise InvalidInput("%s %r: expected an IP address such as 127.0.0.1" % (what, value), value=value) from None


def ipv4_network(value, what):
    """A netaddr IPNetwork for ``a.b.c.d/n`` whose address is the network's own (no host bits)."""
    address_text, slash, prefix = str(value).partition("/")
    try:
        address = ipv4_address(address_text, what)
    except InvalidInput:
        address = None
    if address is None or not slash or not prefix.isdigit() or int(prefix) > 32:
        raise InvalidInput("%s %r: expected an IPv4 network in CIDR form such as 10.1.0.0/16" % (what, value),
                           value=value)
    network = IPNetwork("%s/%d" % (address, int(prefix)))
    if network.ip != network.network:
        raise InvalidInput("%s %r has host bits set: expected the network address, %s" % (what, value, network.cidr),
                           value=value)
    return network


def address_range(value, what):
    """An address, an ``a-b`` range or a CIDR, as an IPSet."""
    text = str(value)
    if "-" in text:
        first, _dash, last = text.partition("-")
        start, end = ipv4_address(first.strip(), what), ipv4_address(last.strip(), what)
        if start > end:
            raise InvalidInput("%s %r is an empty range: %s comes after %s" % (what, value, start, end), value=value)
        return IPSet(IPRange(start, end))
    if "/" in text:
        return IPSet(ipv4_network(text, what))
    return IPSet([ipv4_address(text, what)])


def mac_address(value, what):
    """A unicast EUI-48 as lower-case ``fa:16:3e:12:34:56``."""
    require_netaddr()
    try:  # netaddr reads integers as MACs too: only strings are MACs here
        eui = EUI(value, dialect=mac_unix_expanded) if isinstance(value, str) else None
    except (AddrFormatError, TypeError, ValueError):
        eui = None
    if eui is None or eui.version != 48 or CONTROL_CHARACTERS.search(value):
        raise InvalidInput("%s %r: expected a MAC address of six hex octets such as fa:16:3e:12:34:56"
                           % (what, value), value=value)
    if int(eui) == 0 or (int(eui) >> 40) & 1:
        raise InvalidInput("%s %r: expected a unicast MAC address (the first octet even, as in fa:16:3e:..)"
                           % (what, value), value=value)
    return str(eui)


def port(value, what):
    return whole_number(value, what, 1, 65535)


def _matching(pattern, value, what, expected):
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidInput("%s %r: %s" % (what, value, expected), value=value)
    return value
