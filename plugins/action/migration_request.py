# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of resize and migration requests: see plugins/modules/migration_request.py for the docs."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import action_result
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import load_catalog_file
from ansible_collections.novalite.compute.plugins.plugin_utils.host_facts import documents_from_hostvars
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import DEFAULT_STATE_DIR, ReservationLedger
from ansible_collections.novalite.compute.plugins.plugin_utils.migration_request import OPERATIONS, plan_moves
from ansible_collections.novalite.compute.plugins.plugin_utils.request import checked_security_groups
from ansible_collections.novalite.compute.plugins.plugin_utils.scheduler import DEFAULT_RATIOS

IPAM_LEDGER = "ipam"  # the ledger ipam_allocate keeps: a DHCP server taken here is reserved there

ARGUMENT_SPEC = {
    "operation": {"type": "str", "choices": list(OPERATIONS), "required": True},
    "name": {"type": "str", "required": True},
    "project_id": {"type": "str", "required": True},
    "flavor": {"type": "str"},
    "flavors": {"type": "dict", "default": {}},
    "quotas": {"type": "dict", "default": {}},
    "target_host": {"type": "str"},
    "auto_confirm": {"type": "bool", "default": False},
    "hosts": {"type": "list", "elements": "str", "required": True},
    "catalog": {"type": "path"},
    "security_group_definitions": {"type": "list", "elements": "dict", "default": []},
    "migration_uri": {"type": "str"},
    "state_dir": {"type": "path", "default": DEFAULT_STATE_DIR},
    "ram_allocation_ratio": {"type": "float", "default": DEFAULT_RATIOS["ram"]},
    "cpu_allocation_ratio": {"type": "float", "default": DEFAULT_RATIOS["cpu"]},
    "disk_allocation_ratio": {"type": "float", "default": DEFAULT_RATIOS["disk"]},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(ARGUMENT_SPEC)
        return action_result(result, lambda: request_moves(args, task_vars["hostvars"], self._task.check_mode))


def request_moves(args, hostvars, check_mode):
    """Every check, then the moves; only a new DHCP server for a target is written (to the IPAM ledger)."""
    documents = documents_from_hostvars(hostvars, args["hosts"])
    checked_security_groups([], args["security_group_definitions"])
    args = dict(args, migration_addresses={host: (hostvars[host].get("novalite_migration_address") or None)
                                           for host in args["hosts"]})
    catalog = load_catalog_file(args["catalog"]) if args["catalog"] else None
    ledger = ReservationLedger(args["state_dir"], name=IPAM_LEDGER)
    return plan_moves(args, documents, hostvars, catalog=catalog, ledger=ledger, check_mode=check_mode)
