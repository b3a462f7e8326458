# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the scheduler: see plugins/modules/schedule_instances.py for the docs."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import action_result
from ansible_collections.novalite.compute.plugins.module_utils.compute.resource_tracker import NODE_FACT
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filter_scheduler import schedule
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.host_state import DEFAULT_RATIOS, HostState

ARGUMENT_SPEC = {
    "instances": {"type": "list", "elements": "dict", "required": True},
    "hosts": {"type": "list", "elements": "str", "required": True},
    "image_properties": {"type": "dict", "default": {}},
    "ram_allocation_ratio": {"type": "float", "default": DEFAULT_RATIOS["ram"]},
    "cpu_allocation_ratio": {"type": "float", "default": DEFAULT_RATIOS["cpu"]},
    "disk_allocation_ratio": {"type": "float", "default": DEFAULT_RATIOS["disk"]},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(ARGUMENT_SPEC)
        return action_result(result, lambda: place_instances(args, task_vars["hostvars"]))


def host_states(hostvars, hosts, ratios):
    states = []
    for name in hosts:
        variables = hostvars[name]
        node = variables.get(NODE_FACT)
        if node is None:
            raise NovaliteError("host %s has no %s fact: run novalite.compute.compute_node_info on it first"
                                % (name, NODE_FACT))
        states.append(HostState(name, node, enabled=variables.get("novalite_compute_enabled", True),
                                availability_zone=variables.get("novalite_availability_zone", "nova"),
                                ratios=ratios))
    return states


def place_instances(args, hostvars):
    """Instances with a host keep it (a re-run never moves them); the others get one."""
    ratios = {"ram": args["ram_allocation_ratio"], "cpu": args["cpu_allocation_ratio"],
              "disk": args["disk_allocation_ratio"]}
    unplaced = [record for record in args["instances"] if not record.get("host")]
    requests = [{"id": record["uuid"], "label": record["name"], "flavor": record["flavor"],
                 "target_host": record.get("requested_host"), "availability_zone": record.get("availability_zone"),
                 "image_properties": args["image_properties"]} for record in unplaced]
    placements = schedule(requests, host_states(hostvars, args["hosts"], ratios)) if requests else {}
    instances = [dict(record, host=record.get("host") or placements[record["uuid"]]) for record in args["instances"]]
    return {
        "changed": False,
        "instances": instances,
        "placements": placements,
        "hosts_used": sorted({record["host"] for record in instances}),
    }
