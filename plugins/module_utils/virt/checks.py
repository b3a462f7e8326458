# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small input checks shared by the specs: each names the bad value and what was expected."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput


def mapping(value, what):
    if not isinstance(value, dict):
        raise InvalidInput("%s: expected a mapping, got %r" % (what, value))
    return value


def sequence(value, what):
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput("%s: expected a list, got %r" % (what, value))
    return value


def reject_unknown(fields, known, what):
    # Ansible fills unset suboptions with None; only keys that carry a value can be unknown.
    unknown = sorted(str(key) for key, value in fields.items() if key not in known and value is not None)
    if unknown:
        raise InvalidInput("%s: unknown field(s) %s; expected some of %s"
                           % (what, ", ".join(unknown), ", ".join(known)))


def reject_duplicates(values, what):
    seen = set()
    for value in values:
        if value in seen:
            raise InvalidInput("%s %s appears twice; each must be unique" % (what, value))
        seen.add(value)


def whole_number(value, bounds, what):
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput("%s %r: expected a whole number from %d to %d" % (what, value, low, high))
    return value


def one_line(value, what):
    if value is None:
        return None
    if not isinstance(value, str) or any(ord(char) < 32 for char in value):
        raise InvalidInput("%s %r: expected text on one line, without control characters" % (what, value))
    return value
