# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names that end up in device names, dnsmasq arguments and the DHCP hosts file.

Each of them is written into a command line or a comma-separated file, so anything that
could split a field (commas, spaces, newlines) is refused here rather than escaped later.
"""

from __future__ import annotations

import re
import uuid

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput

# IFNAMSIZ is 16 with the NUL; iproute2 also refuses "/", ":" and whitespace.
# Matched with fullmatch: "$" would let a trailing newline through into the hosts file.
DEVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# The label becomes a dnsmasq tag (set:<label>) inside a comma-separated option.
TAG = re.compile(r"[A-Za-z0-9_.-]{1,64}")
PRINTABLE = re.compile(r"[^\x00-\x1f\x7f]*")


def device_name(value, what):
    return _matching(DEVICE_NAME, value, what, "is not a usable network device name: expected 1 to 15 "
                     "characters of letters, digits, '_', '.' or '-', starting with a letter or digit")


def dns_label(value, what):
    return _matching(DNS_LABEL, value, what, "is not a valid DNS label: expected 1 to 63 letters, digits or "
                     "'-', not starting or ending with '-' (it goes into the dnsmasq hosts file)")


def dns_domain(value, what):
    labels = value.split(".") if isinstance(value, str) else [None]
    if len(value or "") > 253 or not all(isinstance(x, str) and DNS_LABEL.fullmatch(x) for x in labels):
        raise InvalidInput("%s %r is not a valid DNS domain: expected dot-separated DNS labels"
                           % (what, value), value=value)
    return value


def dnsmasq_tag(value, what):
    return _matching(TAG, value, what, "cannot be a dnsmasq tag: expected 1 to 64 letters, digits, '_', '.' or '-'")


def uuid_string(value, what):
    """The canonical (lower-case, hyphenated) form of a UUID."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidInput("%s %r is not a UUID (expected e.g. e011b388-163b-4080-a083-bb63ebed7f6a)"
                           % (what, value), value=value) from None


def printable(value, what):
    """Free text kept in facts (instance names): one line, no control characters."""
    if value is not None and (not isinstance(value, str) or not PRINTABLE.fullmatch(value)):
        raise InvalidInput("%s %r must be printable text on one line" % (what, value), value=value)
    return value


def _matching(pattern, value, what, problem):
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidInput("%s %r %s" % (what, value, problem), value=value)
    return value
