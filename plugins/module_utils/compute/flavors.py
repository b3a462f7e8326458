# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flavors (Nova's instance types): Nova's five defaults, extendable and overridable by the user."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput

# Nova's default instance types (Grizzly: m1.tiny has root_gb 0); ids as the seed recorded m1.tiny.
DEFAULT_FLAVORS = {
    "m1.tiny": {"id": 4, "flavorid": "1", "memory_mb": 512, "vcpus": 1, "root_gb": 0},
    "m1.small": {"id": 5, "flavorid": "2", "memory_mb": 2048, "vcpus": 1, "root_gb": 20},
    "m1.medium": {"id": 1, "flavorid": "3", "memory_mb": 4096, "vcpus": 2, "root_gb": 40},
    "m1.large": {"id": 2, "flavorid": "4", "memory_mb": 8192, "vcpus": 4, "root_gb": 80},
    "m1.xlarge": {"id": 3, "flavorid": "5", "memory_mb": 16384, "vcpus": 8, "root_gb": 160},
}
OPTIONAL_FIELDS = {"ephemeral_gb": 0, "swap": 0, "rxtx_factor": 1.0, "is_public": True, "disabled": False,
                   "vcpu_weight": None, "extra_specs": {}}
COUNT_LIMITS = {"memory_mb": (1, 2 ** 31 - 1), "vcpus": (1, 2 ** 31 - 1), "root_gb": (0, 2 ** 31 - 1),
                "ephemeral_gb": (0, 2 ** 31 - 1), "swap": (0, 2 ** 31 - 1)}
KNOWN_FIELDS = set(COUNT_LIMITS) | set(OPTIONAL_FIELDS) | {"id", "flavorid", "name"}


def flavor_table(user_flavors=None):
    """Every flavor by name: the defaults, with user flavors added or replacing them."""
    table = {name: dict(fields) for name, fields in DEFAULT_FLAVORS.items()}
    for name, fields in (user_flavors or {}).items():
        if not isinstance(fields, dict):
            raise InvalidInput("flavor %r: expected a mapping of fields, got %r" % (name, fields))
        table[name] = dict(fields)
    return {name: _complete(name, fields) for name, fields in table.items()}


def find_flavor(ref, user_flavors=None):
    """The flavor named ``ref`` (or with flavorid ``ref``), complete and validated."""
    table = flavor_table(user_flavors)
    flavor = table.get(ref) or next((f for f in table.values() if f["flavorid"] == str(ref)), None)
    if flavor is None:
        raise InvalidInput("unknown flavor %r (known: %s)" % (ref, ", ".join(sorted(table))))
    if flavor["disabled"]:
        raise InvalidInput("flavor %r is disabled" % ref)
    return flavor


def _complete(name, fields):
    unknown = set(fields) - KNOWN_FIELDS
    if unknown:
        raise InvalidInput("flavor %r: unknown field(s) %s (known: %s)"
                           % (name, ", ".join(sorted(unknown)), ", ".join(sorted(KNOWN_FIELDS))))
    flavor = dict(OPTIONAL_FIELDS, **fields)
    flavor["name"] = name
    for field, (low, high) in COUNT_LIMITS.items():
        value = flavor.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput("flavor %r: %s must be a whole number from %d to %d, got %r"
                               % (name, field, low, high, value))
    flavor["flavorid"] = str(flavor.get("flavorid", name))
    flavor.setdefault("id", None)
    return flavor
