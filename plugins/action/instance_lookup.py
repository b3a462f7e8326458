# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of every lifecycle action: see plugins/modules/instance_lookup.py for the docs."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import action_result
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_actions import ACTION_NAMES
from ansible_collections.novalite.compute.plugins.plugin_utils.instance_lookup import lookup

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "project_id": {"type": "str", "required": True},
    "hosts": {"type": "list", "elements": "str", "required": True},
    "action": {"type": "str", "choices": list(ACTION_NAMES)},
    "reboot_type": {"type": "str", "choices": ["soft", "hard"], "default": "soft"},
    "image": {"type": "str"},
    "image_name": {"type": "str"},
    "catalog": {"type": "path"},
    "images": {"type": "list", "elements": "dict"},
    "image_dirs": {"type": "list", "elements": "path", "default": []},
    "image_schemes": {"type": "list", "elements": "str", "choices": ["http", "https"], "default": ["http", "https"]},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(ARGUMENT_SPEC, mutually_exclusive=[("catalog", "images")])
        return action_result(result, lambda: lookup(args, task_vars["hostvars"]))
