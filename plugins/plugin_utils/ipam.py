# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side IPAM: the ipam_allocate action's argument spec."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.network.argument_specs import NETWORK
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import DEFAULT_STATE_DIR, DEFAULT_TTL_SECONDS

REQUEST_OPTIONS = {
    "instance_uuid": {"type": "str", "required": True},
    "instance_name": {"type": "str"},
    "hostname": {"type": "str", "required": True},
    "host": {"type": "str", "required": True},
    "address": {"type": "str"},
    "mac": {"type": "str"},
}

IPAM_ALLOCATE_SPEC = {
    "network": NETWORK,
    "requests": {"type": "list", "elements": "dict", "options": REQUEST_OPTIONS, "default": []},
    "release": {"type": "list", "elements": "str", "default": []},
    "hosts": {"type": "list", "elements": "str"},
    "state_dir": {"type": "path", "default": DEFAULT_STATE_DIR},
    "ledger_ttl": {"type": "int", "default": int(DEFAULT_TTL_SECONDS)},  # the ledger keeps seconds as a float
}
