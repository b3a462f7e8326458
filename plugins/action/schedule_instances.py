# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the scheduler: see plugins/modules/schedule_instances.py for the docs."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import action_result
from ansible_collections.novalite.compute.plugins.plugin_utils.scheduler import DEFAULT_RATIOS, place_instances

ARGUMENT_SPEC = {
    "instances": {"type": "list", "elements": "dict", "required": True},
    "hosts": {"type": "list", "elements": "str", "required": True},
    "image_properties": {"type": "dict", "default": {}},
    "ram_allocation_ratio": {"type": "float", "default": DEFAULT_RATIOS["ram"]},
    "cpu_allocation_ratio": {"type": "float", "default": DEFAULT_RATIOS["cpu"]},
    "disk_allocation_ratio": {"type": "float", "default": DEFAULT_RATIOS["disk"]},
    "ignore_hosts": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(ARGUMENT_SPEC)
        ratios = {"ram": args["ram_allocation_ratio"], "cpu": args["cpu_allocation_ratio"],
                  "disk": args["disk_allocation_ratio"]}
        return action_result(result, lambda: place_instances(
            args["instances"], task_vars["hostvars"], args["hosts"], args["image_properties"], ratios,
            ignore_hosts=args["ignore_hosts"]))
