# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The ``floating_ranges`` option of floating_ip_request and ipam_allocate: the floating IP pools."""

    DOCUMENTATION = r"""
options:
  floating_ranges:
    description:
      - The floating IP pools (the inventory's C(novalite_floating_ranges)), as C(nova-manage floating create)
        made them. Every entry is checked - a pool name, a range, an interface name - and no range may overlap
        another or a network's fixed range.
    type: list
    elements: dict
    default: []
    suboptions:
      pool:
        description: The pool's name (default V(nova)); entries with the same pool add up.
        type: str
      range:
        description: Its addresses, a CIDR (without its network and broadcast addresses unless smaller than 4) or C(a-b).
        type: str
      interface:
        description: The device its addresses go on (default each host's public interface).
        type: str
"""
