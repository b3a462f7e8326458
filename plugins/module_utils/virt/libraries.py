# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Python libraries the virt modules need on the compute host, checked once up front.

Their imports are guarded where they are used, so a host without one gets this message
(with the Debian package to install) instead of a traceback.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.virt import addresses, connection, xml_config


def require_libraries():
    missing = [package for module, package in ((connection.libvirt, "python3-libvirt (libvirt-python)"),
                                               (xml_config.etree, "python3-lxml (lxml)"),
                                               (addresses.netaddr, "python3-netaddr (netaddr)"))
               if module is None]
    if missing:
        raise NovaliteError("missing on this host: %s" % ", ".join(missing))
