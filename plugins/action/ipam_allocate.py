# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of IPAM: see plugins/modules/ipam_allocate.py for the docs."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import action_result
from ansible_collections.novalite.compute.plugins.plugin_utils.host_facts import documents_from_hostvars
from ansible_collections.novalite.compute.plugins.plugin_utils.ipam import IPAM_ALLOCATE_SPEC, allocate_on_controller
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import ReservationLedger

LEDGER_NAME = "ipam"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(IPAM_ALLOCATE_SPEC)
        return action_result(result, lambda: allocate_for_play(args, task_vars, self._task.check_mode))


def allocate_for_play(args, task_vars, check_mode):
    """The hosts (``hosts`` or group compute), their gathered facts and the ledger, for allocate_on_controller."""
    hosts = args["hosts"] if args["hosts"] is not None else task_vars.get("groups", {}).get("compute")
    if not hosts:
        raise InvalidInput("hosts: no compute hosts given, and the inventory has no group 'compute'")
    documents = documents_from_hostvars(task_vars["hostvars"], hosts)
    ledger = ReservationLedger(args["state_dir"], name=LEDGER_NAME, ttl=args["ledger_ttl"])
    return allocate_on_controller(args, documents, ledger, check_mode)
