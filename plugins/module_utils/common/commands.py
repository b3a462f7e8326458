# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running external commands through ``AnsibleModule.run_command`` with argument lists.

Logic in module_utils takes a ``run_command`` callable with the signature of
``AnsibleModule.run_command`` so that it can be exercised without Ansible.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import CommandFailed


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
