# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``specs_for``: instance records as the batch entries of a per-host module."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.plugin_utils.module_specs import specs_for


def _specs_for(records, module, **context):
    try:
        return specs_for(records, module, **context)
    except (NovaliteError, KeyError) as exc:
        raise AnsibleFilterError("specs_for(%r): %s" % (module, exc))


class FilterModule:
    def filters(self):
        return {"specs_for": _specs_for}
