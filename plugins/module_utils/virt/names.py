# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names libvirt, the filter chains and the instance directory must be able to take.

One place decides what a domain, filter or group name may contain and how Nova built the
per-interface filter name, so libvirt_domain and nwfilter always agree on it.
"""

from __future__ import annotations

import re
import uuid as uuid_lib

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput

# Names end up in paths (<instances_path>/<name>), in filter names and in log file names:
# letters, digits, '_', '.', '-'; no leading '.' or '-' (hidden files, option-looking words).
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
NAME_MAX = 64
# A Linux interface name: at most 15 characters, no '/', ':' or whitespace.
_INTERFACE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$")

INSTANCE_FILTER_PREFIX = "nova-instance-"
SECGROUP_FILTER_PREFIX = "nova-secgroup-"


def safe_name(value, what):
    """``value`` if it can name a domain, filter or group; InvalidInput otherwise."""
    if not isinstance(value, str) or not _SAFE_NAME.match(value) or len(value) > NAME_MAX:
        raise InvalidInput("%s %r: expected 1 to %d letters, digits, '_', '.' or '-', not starting with '.' or '-'"
                           % (what, value, NAME_MAX))
    return value


def interface_name(value, what):
    if not isinstance(value, str) or not _INTERFACE_NAME.match(value):
        raise InvalidInput("%s %r: expected a Linux interface name (1 to 15 letters, digits, '_', '.' or '-')"
                           % (what, value))
    return value


def canonical_uuid(value, what):
    """The lower-case hyphenated form libvirt prints, or InvalidInput."""
    try:
        return str(uuid_lib.UUID(str(value)))
    except ValueError as exc:
        raise InvalidInput("%s %r: expected a UUID such as 5c0a1f3e-7d2b-4c6a-9e1f-0b8d2a4c6e10"
                           % (what, value)) from exc


def instance_filter_name(instance_name, mac):
    """Nova's per-interface filter: ``nova-instance-<instance name>-<mac without colons>``."""
    return "%s%s-%s" % (INSTANCE_FILTER_PREFIX, instance_name, mac.replace(":", ""))


def secgroup_filter_name(group_name):
    return SECGROUP_FILTER_PREFIX + group_name
