# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of floating IPs: see plugins/modules/floating_ip_request.py for the docs."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import action_result
from ansible_collections.novalite.compute.plugins.plugin_utils.floating_request import (
    FLOATING_IP_REQUEST_SPEC, plan_floating_request)
from ansible_collections.novalite.compute.plugins.plugin_utils.host_facts import documents_from_hostvars
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import ReservationLedger

LEDGER_NAME = "ipam"  # the same ledger as the fixed IPs', kind floating_ips


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(FLOATING_IP_REQUEST_SPEC)
        return action_result(result, lambda: request_floating_ips(args, task_vars, self._task.check_mode))


def request_floating_ips(args, task_vars, check_mode):
    documents = documents_from_hostvars(task_vars["hostvars"], args["hosts"])
    ledger = ReservationLedger(args["state_dir"], name=LEDGER_NAME, ttl=args["ledger_ttl"])
    return plan_floating_request(args, documents, ledger, check_mode)
