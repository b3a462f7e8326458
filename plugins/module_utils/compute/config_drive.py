# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config drive (Nova's virt/configdrive.py and the metadata it carries).

A cloud-init compatible ISO 9660 volume labelled ``config-2`` holding
``openstack/latest/meta_data.json``, ``user_data``, ``network_data.json`` and injected files
under ``openstack/content/``, made with the genisoimage flags Nova used.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

CONFIG_DRIVE_NAME = "disk.config"
VOLUME_LABEL = "config-2"
ISO_TOOLS = ("genisoimage", "mkisofs", "xorrisofs")  # same options; Debian, older RHEL, newer RHEL


def meta_data(record, admin_password=None, injected_files=()):
    """openstack/latest/meta_data.json, as Nova's InstanceMetadata wrote it."""
    data = {
        "uuid": record["uuid"],
        "name": record["display_name"],
        "hostname": record["hostname"],
        "launch_index": 0,
        "availability_zone": record.get("availability_zone") or "nova",
        "meta": dict(record.get("metadata") or {}),
        "public_keys": {"default": record["key_data"]} if record.get("key_data") else {},
        "files": [{"path": f["path"], "content_path": "/content/%04d" % i} for i, f in enumerate(injected_files)],
    }
    if admin_password:
        data["admin_pass"] = admin_password
    return data


def network_data(network_info):
    """openstack/latest/network_data.json: one link and one DHCP network per VIF (FlatDHCP)."""
    links, networks, services = [], [], []
    for index, vif in enumerate(network_info):
        link_id = "tap%s" % vif["id"][:11]
        links.append({"id": link_id, "type": "bridge", "ethernet_mac_address": vif["address"], "mtu": 1500,
                      "vif_id": vif["id"]})
        networks.append({"id": "network%d" % index, "type": "ipv4_dhcp", "link": link_id,
                         "network_id": vif["network"]["id"]})
        for subnet in vif["network"].get("subnets", []):
            for dns in subnet.get("dns", []):
                service = {"type": "dns", "address": dns["address"]}
                if service not in services:
                    services.append(service)
    return {"links": links, "networks": networks, "services": services}


def write_tree(root, record, user_data=None, admin_password=None, injected_files=()):
    latest = os.path.join(root, "openstack", "latest")
    os.makedirs(latest)
    _write(os.path.join(latest, "meta_data.json"), json.dumps(meta_data(record, admin_password, injected_files)))
    _write(os.path.join(latest, "network_data.json"), json.dumps(network_data(record.get("network_info") or [])))
    if user_data:
        _write(os.path.join(latest, "user_data"), user_data)
    if injected_files:
        os.makedirs(os.path.join(root, "openstack", "content"))
        for index, injected in enumerate(injected_files):
            _write(os.path.join(root, "openstack", "content", "%04d" % index), injected["contents"])


def find_iso_tool(get_bin_path):
    for tool in ISO_TOOLS:
        path = get_bin_path(tool)
        if path:
            return path
    raise NovaliteError("no ISO 9660 tool found: install genisoimage (Debian) or xorriso (RHEL)")


def make_config_drive(run_command, iso_tool, target, record, publisher, **contents):
    """Build the ISO for ``record`` at ``target``; the volume appears whole or not at all."""
    staging = tempfile.mkdtemp(prefix=".config-drive.", dir=os.path.dirname(target))
    try:
        tree = os.path.join(staging, "tree")
        write_tree(tree, record, **contents)
        iso = os.path.join(staging, CONFIG_DRIVE_NAME)
        run_checked(run_command, [iso_tool, "-o", iso, "-ldots", "-allow-lowercase", "-allow-multidot", "-l",
                                  "-publisher", publisher, "-quiet", "-J", "-r", "-V", VOLUME_LABEL, tree])
        os.chmod(iso, 0o644)
        os.rename(iso, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
