# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``dns_updates``: the names a host's networks keep once some instances are deleted."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.plugin_utils.dns_names import dns_updates_from_hostvars


def _dns_updates(hostvars, hosts, host, without=()):
    try:
        return dns_updates_from_hostvars(hostvars, hosts, host, without)
    except NovaliteError as exc:
        raise AnsibleFilterError("dns_updates: %s" % exc.msg)


class FilterModule:
    def filters(self):
        return {"dns_updates": _dns_updates}
