# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters ``moves``, ``move_specs``, ``move_failures``, ``move_disks``, ``move_report`` and ``resize_leftovers``: a migration request's
moves for the per-host steps of resize_vm.yml and migrate_vm.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.plugin_utils.migration_specs import (
    disks_by_uuid, move_report, move_specs, moves_on, resize_leftovers, step_failures)


def _guarded(function):
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (NovaliteError, KeyError, TypeError) as exc:
            raise AnsibleFilterError("%s: %s" % (function.__name__, exc))
    return run


class FilterModule:
    def filters(self):
        return {"moves": _guarded(moves_on), "move_specs": _guarded(move_specs),
                "move_failures": _guarded(step_failures), "move_disks": _guarded(disks_by_uuid),
                "move_report": _guarded(move_report), "resize_leftovers": _guarded(resize_leftovers)}
