# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``<filterref filter='...'><parameter name='' value=''/></filterref>``.

The same element sits in a domain's ``<interface>`` and inside an nwfilter. libvirt sorts the
parameters by name when it prints them; they are formatted here in one fixed order (the seed's:
IP, DHCPSERVER, PROJNET, PROJMASK, then the rest by name) so that order never shows as a change.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.virt.xml_config import ConfigObject, add_child

SEED_PARAMETER_ORDER = ("IP", "DHCPSERVER", "PROJNET", "PROJMASK")


def _parameter_order(name):
    if name in SEED_PARAMETER_ORDER:
        return (0, SEED_PARAMETER_ORDER.index(name), name)
    return (1, 0, name)


class FilterRefConfig(ConfigObject):
    root_name = "filterref"

    def __init__(self, filter_name=None, parameters=None):
        self.filter_name = filter_name
        self.parameters = dict(parameters or {})

    def format_dom(self):
        element = super().format_dom()
        element.set("filter", self.filter_name)
        for name in sorted(self.parameters, key=_parameter_order):
            add_child(element, "parameter", name=name, value=self.parameters[name])
        return element

    @classmethod
    def from_dom(cls, element):
        parameters = {parameter.get("name"): parameter.get("value") for parameter in element.findall("parameter")}
        return cls(element.get("filter"), parameters)
