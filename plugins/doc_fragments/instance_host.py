# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Where a lifecycle module finds an instance on its compute host: libvirt, the instance
    directories and the records (compute/instance_actions.py HOST_OPTIONS)."""

    DOCUMENTATION = r"""
options:
  uri:
    description: libvirt connection URI.
    type: str
    default: qemu:///system
  instances_path:
    description: Where the instance directories are.
    type: path
    default: /var/lib/novalite/instances
  facts_path:
    description: The host's facts document holding the instance records.
    type: path
    default: /etc/ansible/facts.d/novalite.fact
"""
