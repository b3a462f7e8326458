# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The common ending of every module: run the service, report, or fail cleanly."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError


def run_module(module, execute):
    """Call ``execute(module)``, which returns the result dict, and exit with it.

    Only ``NovaliteError`` is turned into ``fail_json``: anything else is a bug and keeps
    its traceback.
    """
    try:
        result = execute(module)
    except NovaliteError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    module.exit_json(**result)


def action_result(result, execute):
    """The action-plugin twin of ``run_module``: merge ``execute()`` into ``result``, or the failure."""
    try:
        result.update(execute())
    except NovaliteError as exc:
        result.update(exc.details)
        result.update(failed=True, msg=exc.msg)
    return result
