# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names Nova gives an instance: libvirt name, reservation id, hostname, display names."""

from __future__ import annotations

import random
import re
import string

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput

INSTANCE_NAME_TEMPLATE = "instance-%08x"  # Nova's instance_name_template, applied to the id
MULTI_INSTANCE_DISPLAY_NAME_TEMPLATE = "%(name)s-%(count)d"
RESERVATION_ALPHABET = string.ascii_lowercase + string.digits
_HOSTNAME_DROPPED = re.compile(r"[^\w.-]+")
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def instance_name(instance_id):
    return INSTANCE_NAME_TEMPLATE % instance_id


def new_reservation_id(rng=random):
    """``r-`` and eight random characters, as Nova's ``generate_uid('r')``."""
    return "r-" + "".join(rng.choice(RESERVATION_ALPHABET) for _index in range(8))


def sanitize_hostname(display_name):
    """Nova's ``sanitize_hostname``, and the result must be a DNS label (it goes into dnsmasq's hosts file)."""
    hostname = display_name.replace(" ", "-").replace("_", "-")
    hostname = _HOSTNAME_DROPPED.sub("", hostname).lower().strip(".-")
    hostname = hostname.replace(".", "-")[:63].strip("-")
    if not _DNS_LABEL.match(hostname):
        raise InvalidInput("name %r gives no usable hostname (letters, digits and '-' are needed)" % display_name)
    return hostname


def display_names(name, count):
    """One display name per instance: the name itself, or name-1 ... name-N for a batch."""
    if count == 1:
        return [name]
    return [MULTI_INSTANCE_DISPLAY_NAME_TEMPLATE % {"name": name, "count": n} for n in range(1, count + 1)]
