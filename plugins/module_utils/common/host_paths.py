# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a compute host keeps novalite's state: the defaults of the modules' path options.

One place, so that every module run on a host finds what the others left there.
"""

from __future__ import annotations

DEFAULT_FACTS_PATH = "/etc/ansible/facts.d/novalite.fact"
DEFAULT_INSTANCES_PATH = "/var/lib/novalite/instances"  # Nova's $instances_path
DEFAULT_NETWORKS_PATH = "/var/lib/novalite/networks"  # Nova's $state_path/networks
DEFAULT_LOCKS_PATH = "/var/lib/novalite/locks"
DEFAULT_LIBVIRT_URI = "qemu:///system"
