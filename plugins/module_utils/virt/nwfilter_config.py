# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``<filter>`` and its ``<rule>``s, formatted and parsed the same way so they compare by meaning.

The uuid is not part of a filter's meaning: it is never parsed, and only formatted when set,
which the service does just before defining (with the uuid libvirt already has for the name).
libvirt prints every rule's priority and numbers in its own way; rules are always formatted
with an explicit priority and numbers are normalised, so libvirt's echo parses back equal.
"""

from __future__ import annotations

import re

from ansible_collections.novalite.compute.plugins.module_utils.virt.filterref import FilterRefConfig
from ansible_collections.novalite.compute.plugins.module_utils.virt.xml_config import ConfigObject, add_child

DEFAULT_RULE_PRIORITY = 500
_NUMBER = re.compile(r"^(0x[0-9a-fA-F]+|[0-9]+)$")


def _canonical(value):
    """Numbers in decimal (libvirt may print some in hex); addresses and $VARIABLES as they are."""
    if not _NUMBER.match(value):
        return value
    return str(int(value, 16) if value.lower().startswith("0x") else int(value, 10))


class RuleConfig(ConfigObject):
    root_name = "rule"

    def __init__(self, action, direction, priority=DEFAULT_RULE_PRIORITY, protocol=None, statematch=True,
                 **attributes):
        self.action = action
        self.direction = direction
        self.priority = priority
        self.protocol = protocol  # the match element: tcp, udp, icmp, all, ip, ... (None: match everything)
        self.statematch = statematch
        self.attributes = {name: str(value) for name, value in attributes.items() if value is not None}

    def format_dom(self):
        rule = super().format_dom()
        rule.set("action", self.action)
        rule.set("direction", self.direction)
        rule.set("priority", str(self.priority))
        if not self.statematch:
            rule.set("statematch", "false")
        if self.protocol:
            add_child(rule, self.protocol, **{name: _canonical(value) for name, value in
                                              sorted(self.attributes.items())})
        return rule

    @classmethod
    def from_dom(cls, element):
        match = element[0] if len(element) else None
        return cls(element.get("action"), element.get("direction"),
                   int(element.get("priority", DEFAULT_RULE_PRIORITY)),
                   None if match is None else match.tag,
                   element.get("statematch", "true").lower() not in ("false", "0"),
                   **({} if match is None else dict(match.attrib)))


class FilterConfig(ConfigObject):
    root_name = "filter"

    def __init__(self, name, chain="root", entries=(), uuid=None):
        self.name = name
        self.chain = chain
        self.entries = list(entries)  # FilterRefConfig and RuleConfig, in order
        self.uuid = uuid

    def format_dom(self):
        element = super().format_dom()
        element.set("name", self.name)
        element.set("chain", self.chain)
        if self.uuid:
            add_child(element, "uuid", self.uuid)
        for entry in self.entries:
            element.append(entry.format_dom())
        return element

    @classmethod
    def from_dom(cls, element):
        parsers = {"filterref": FilterRefConfig.parse_dom, "rule": RuleConfig.parse_dom}
        entries = [parsers[child.tag](child) for child in element if child.tag in parsers]
        return cls(element.get("name"), element.get("chain", "root"), entries)

    @property
    def referenced(self):
        return [entry.filter_name for entry in self.entries if isinstance(entry, FilterRefConfig)]

    def with_uuid(self, uuid):
        return FilterConfig(self.name, self.chain, self.entries, uuid)
