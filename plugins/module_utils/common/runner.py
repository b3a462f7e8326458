# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running commands, and the common ending of every module.

Logic in module_utils takes a ``run_command`` callable with the signature of
``AnsibleModule.run_command`` and passes argument lists, never shell strings, so that it can
be exercised without Ansible.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import CommandFailed, NovaliteError


def run_checked(run_command, args, **kwargs):
    """Run ``args`` (a list, never a shell string) and return stdout; raise on failure."""
    rc, stdout, stderr = run_command([str(a) for a in args], **kwargs)
    if rc != 0:
        raise CommandFailed(args, rc, stdout, stderr)
    return stdout


def succeeds(run_command, args, **kwargs):
    """True when ``args`` exits 0 (for probes such as "does this device exist")."""
    rc, _stdout, _stderr = run_command([str(a) for a in args], **kwargs)
    return rc == 0


def run_module(module, execute):
    """Call ``execute(module)``, which returns the result dict, and exit with it.

    Only ``NovaliteError`` becomes ``fail_json``; the rollback contract (common/rollback.py)
    turns any exception during apply into one, so what escapes here otherwise is a bug in
    input handling and keeps its traceback.
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
