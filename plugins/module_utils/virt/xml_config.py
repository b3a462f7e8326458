# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of the XML classes, after Nova's ``virt/libvirt/config.py``.

Each element is a small class with plain attributes that formats itself (``format_dom``) and
parses itself (``parse_dom``). Parsing reads back only what the class itself formats, so a
parsed libvirt definition and a freshly built one format to the same text exactly when they
agree on everything novalite sets: that text is what gets compared and shown as a diff.
Values only ever reach the XML through lxml, which escapes them.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

try:
    from lxml import etree
except ImportError:  # reported by virt.libraries.require_libraries before any use
    etree = None


def _parser():
    # libvirt's XML is trusted, but there is no reason to let any XML fetch or expand anything.
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


class ConfigObject:
    root_name = None

    def format_dom(self):
        return etree.Element(self.root_name)

    def to_xml(self):
        return etree.tostring(self.format_dom(), pretty_print=True, encoding="unicode")

    @classmethod
    def parse_str(cls, text):
        try:
            root = etree.fromstring(text.encode("utf-8"), _parser())
        except etree.XMLSyntaxError as exc:
            raise NovaliteError("cannot read <%s> XML: %s" % (cls.root_name, exc)) from exc
        return cls.parse_dom(root)

    @classmethod
    def parse_dom(cls, element):
        if element.tag != cls.root_name:
            raise NovaliteError("expected <%s>, found <%s>" % (cls.root_name, element.tag))
        return cls.from_dom(element)

    @classmethod
    def from_dom(cls, element):
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self.to_xml() == other.to_xml()

    def __hash__(self):
        return hash(self.to_xml())

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.to_xml().strip())


def add_child(parent, tag, text=None, **attributes):
    """Append ``<tag>`` with ``text`` and the attributes that are not None."""
    child = etree.SubElement(parent, tag)
    set_attributes(child, **attributes)
    if text is not None:
        child.text = str(text)
    return child


def set_attributes(element, **attributes):
    for name, value in attributes.items():
        if value is not None:
            element.set(name, str(value))
    return element


def child_attribute(element, path, attribute):
    child = element.find(path)
    return None if child is None else child.get(attribute)


def child_text(element, path):
    child = element.find(path)
    return None if child is None or child.text is None else child.text.strip()
