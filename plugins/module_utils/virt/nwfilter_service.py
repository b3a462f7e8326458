# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nwfilter module's work: Nova's NWFilterFirewall (setup_basic_filtering,
prepare_instance_filter, unfilter_instance) with security groups as filters.

Filters are defined in dependency order (base, groups, instances) and removed in the reverse.
A filter that exists is compared by meaning and redefined under its own uuid (libvirt refuses
a new uuid for a known name); libvirt re-applies a redefined filter to running guests itself.
"""

from __future__ import annotations

import time

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    LibvirtFailed, call, find_nwfilter, libvirt, libvirt_connection)
from ansible_collections.novalite.compute.plugins.module_utils.virt.instance_filters import parse_instance_filters
from ansible_collections.novalite.compute.plugins.module_utils.virt.libraries import require_libraries
from ansible_collections.novalite.compute.plugins.module_utils.virt.names import secgroup_filter_name
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter_config import FilterConfig
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter_static import (
    BASE_FILTER_NAMES, base_filters)
from ansible_collections.novalite.compute.plugins.module_utils.virt.rollback import Rollback
from ansible_collections.novalite.compute.plugins.module_utils.virt.security_groups import (
    DEFAULT_GROUP, default_group, parse_groups)

CREATED, UPDATED, UNCHANGED, REMOVED, ABSENT = "created", "updated", "unchanged", "removed", "absent"
RETRY_SECONDS = 0.5


def ensure_nwfilters(module):
    """``run_module`` entry point of nwfilter."""
    return NwfilterService(module.params).ensure(module.check_mode, module._diff)


class FilterChange:
    """One filter: what libvirt has, what is wanted, and the action between them."""

    def __init__(self, name, existing, wanted=None):
        self.name = name
        self.existing = existing  # virNWFilter or None
        self.current_xml = call("reading nwfilter %s" % name, existing.XMLDesc, 0) if existing else None
        self.current = FilterConfig.parse_str(self.current_xml) if existing else None
        self.wanted = wanted
        if wanted is None:
            self.action = REMOVED if existing else ABSENT
        elif existing is None:
            self.action = CREATED
        else:
            self.action = UNCHANGED if self.current.to_xml() == wanted.to_xml() else UPDATED

    @property
    def changed(self):
        return self.action in (CREATED, UPDATED, REMOVED)

    def diff(self):
        return {"before_header": "nwfilter %s (libvirt)" % self.name,
                "after_header": "nwfilter %s (wanted)" % self.name,
                "before": self.current.to_xml() if self.current else "",
                "after": self.wanted.to_xml() if self.wanted else ""}


class NwfilterService:
    def __init__(self, options, clock=time.monotonic, sleep=time.sleep):
        self.options = options
        self.clock = clock
        self.sleep = sleep

    def ensure(self, check_mode, diff):
        require_libraries()
        options = self.options
        groups = parse_groups(options.get("security_groups"))
        instances = parse_instance_filters(options.get("instance_filters"))
        if options["in_use_timeout"] < 0:
            raise InvalidInput("in_use_timeout %r: expected a number of seconds, 0 or more" % options["in_use_timeout"])
        with libvirt_connection(options["uri"]) as conn:
            if options["state"] == "present":
                wanted = self._wanted_filters(conn, groups, instances)
                changes = [FilterChange(config.name, find_nwfilter(conn, config.name), config) for config in wanted]
            else:
                names = self._names_to_remove(groups, instances)
                changes = [FilterChange(name, find_nwfilter(conn, name)) for name in names]
            if not check_mode:
                self._apply(conn, changes)
        result = {"changed": any(change.changed for change in changes),
                  "filters": [{"name": change.name, "action": change.action, "uuid": _uuid_after(change)}
                              for change in changes]}
        if diff:
            result["diff"] = [change.diff() for change in changes if change.changed]
        return result

    def _wanted_filters(self, conn, groups, instances):
        """Base, groups, instance filters; referenced groups/base filters must exist or be given."""
        wanted = base_filters() if self.options["base_filters"] else []
        given_groups = {group.name for group in groups}
        wanted += [group.filter_config() for group in groups]
        for group_name in sorted({name for spec in instances for name in spec.groups} - given_groups):
            if find_nwfilter(conn, secgroup_filter_name(group_name)) is not None:
                continue
            if group_name != DEFAULT_GROUP:
                raise InvalidInput("security group %s (used by instance_filters) is neither in security_groups nor "
                                   "defined as nwfilter %s" % (group_name, secgroup_filter_name(group_name)))
            wanted.append(default_group().filter_config())  # the seed's default group, made on first use
        if instances and not self.options["base_filters"]:
            missing = [name for name in BASE_FILTER_NAMES if find_nwfilter(conn, name) is None]
            if missing:
                raise InvalidInput("instance_filters reference %s, which are not defined; set base_filters: true"
                                   % ", ".join(missing))
        return wanted + [spec.filter_config() for spec in instances]

    def _names_to_remove(self, groups, instances):
        names = [spec.filter_name for spec in instances] + [group.filter_name for group in groups]
        return names + (list(reversed(BASE_FILTER_NAMES)) if self.options["base_filters"] else [])

    def _apply(self, conn, changes):
        rollback = Rollback()
        with rollback.on_failure():
            for change in changes:
                if change.action in (CREATED, UPDATED):
                    self._define(conn, change, rollback)
                elif change.action == REMOVED:
                    self._undefine(conn, change, rollback)

    def _define(self, conn, change, rollback):
        uuid = change.existing.UUIDString() if change.existing else None
        change.existing = call("defining nwfilter %s" % change.name, conn.nwfilterDefineXML,
                               change.wanted.with_uuid(uuid).to_xml())
        if change.current_xml is None:
            created = change.existing
            rollback.add("undefine nwfilter %s" % change.name,
                         lambda: call("undefining nwfilter %s" % change.name, created.undefine))
        else:
            rollback.add("restore nwfilter %s" % change.name, lambda: _redefine(conn, change.name, change.current_xml))

    def _undefine(self, conn, change, rollback):
        """Undefine, retrying while libvirt says the filter is in use (a guest still being torn down)."""
        deadline = self.clock() + self.options["in_use_timeout"]
        while True:
            try:
                call("undefining nwfilter %s" % change.name, change.existing.undefine)
                break
            except LibvirtFailed as exc:
                if not _in_use(exc):
                    raise
                if self.clock() >= deadline:
                    raise LibvirtFailed("%s (still in use after %ss: remove the domains using it first)"
                                        % (exc.msg, self.options["in_use_timeout"]), **exc.details) from exc
            self.sleep(RETRY_SECONDS)
        rollback.add("restore nwfilter %s" % change.name, lambda: _redefine(conn, change.name, change.current_xml))


def _redefine(conn, name, xml):
    call("restoring nwfilter %s" % name, conn.nwfilterDefineXML, xml)


def _in_use(exc):
    return exc.details.get("libvirt_error_code") == libvirt.VIR_ERR_OPERATION_INVALID or "in use" in exc.msg


def _uuid_after(change):
    if change.action in (REMOVED, ABSENT):
        return None
    if change.existing is not None:
        return change.existing.UUIDString()
    return None
