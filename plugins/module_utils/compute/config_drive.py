# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config drive: Nova's ``nova/virt/configdrive.py`` and the metadata it carries
(``nova/api/metadata/base.py`` ``InstanceMetadata``), and the ``config_drive`` module's work.

A cloud-init compatible ISO 9660 volume labelled ``config-2`` holding
``openstack/latest/meta_data.json``, ``user_data``, ``network_data.json`` and injected files
under ``openstack/content/``, made with the genisoimage flags Nova used. It lives in the
instance directory as ``disk.config`` (common/instance_dir.py). As in Nova's
``LibvirtDriver.spawn``, a drive is built once and never rebuilt.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import remove_quietly
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import INSTANCE_FILES, instance_file
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import apply_steps, undo_on_failure
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked

CONFIG_DRIVE_NAME = INSTANCE_FILES["config_drive"]
VOLUME_LABEL = "config-2"
ISO_TOOLS = ("genisoimage", "mkisofs", "xorrisofs")  # same options; Debian, older RHEL, newer RHEL
PUBLISHER = "novalite.compute"
REQUIRED_FIELDS = ("uuid", "name", "display_name", "hostname")
ASIDE_SUFFIX = ".removing"  # a drive being removed waits here until the whole batch is done


# --- what the drive holds ----------------------------------------------------------------------

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


def _write(path, text):
    # plain writes: the tree is staged in a private directory that is removed either way
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


# --- building the ISO --------------------------------------------------------------------------

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


# --- the module's plan: one step per drive to build or remove ----------------------------------

class BuildDrive:
    """Build one missing drive; its undo removes the drive, and the directory if this step made it."""

    changed = True

    def __init__(self, record, target, build):
        self.name = "build config drive %s" % target
        self.record = record
        self.target = target
        self.build = build
        self.made_directory = False

    def apply(self):
        directory = os.path.dirname(self.target)
        if not os.path.isdir(directory):
            os.makedirs(directory)
            self.made_directory = True
        self.build(target=self.target, record=self.record)

    def undo(self):
        remove_quietly(self.target)
        if self.made_directory:
            os.rmdir(os.path.dirname(self.target))


class RemoveDrive:
    """Move one unwanted drive aside; its undo puts it back, ``finish`` deletes it for good."""

    changed = True

    def __init__(self, path):
        self.name = "remove config drive %s" % path
        self.path = path
        self.aside = path + ASIDE_SUFFIX

    def apply(self):
        os.rename(self.path, self.aside)

    def undo(self):
        if os.path.exists(self.aside):
            os.rename(self.aside, self.path)

    def finish(self):
        remove_quietly(self.aside)


def planned_drives(params):
    """[(uuid, record, path)] after checking every record: nothing is touched before all pass.

    A uuid listed twice is one drive (the last record given for it).
    """
    drives = {}
    for index, record in enumerate(params["instances"]):
        what = "instances[%d]" % index
        missing = [field for field in REQUIRED_FIELDS if not record.get(field)]
        if missing:
            raise InvalidInput("%s lacks %s" % (what, ", ".join(missing)))
        uuid = validate.uuid(record["uuid"], what + ".uuid")
        validate.instance_name(record["name"], what + ".name")
        validate.display_name(record["display_name"], what + ".display_name")
        validate.dns_label(record["hostname"], what + ".hostname")
        record = dict(record, uuid=uuid)
        drives[uuid] = (uuid, record, instance_file(params["instances_path"], record["name"], "config_drive"))
    return list(drives.values())


def ensure_config_drives(module):
    """Build the wanted drives that are missing and remove the unwanted ones, as one undoable run."""
    params = module.params
    drives = planned_drives(params)
    before = {uuid: path if os.path.exists(path) else None for uuid, _record, path in drives}
    after = {uuid: _wanted_path(params, record, path) for uuid, record, path in drives}
    to_build = [(record, after[uuid]) for uuid, record, _path in drives if after[uuid] and not before[uuid]]
    to_remove = [before[uuid] for uuid, _record, _path in drives if before[uuid] and not after[uuid]]
    if not module.check_mode and (to_build or to_remove):
        _build_and_remove(module, to_build, to_remove)
    return {"changed": bool(to_build or to_remove), "config_drives": after,
            "diff": {"before": before, "after": after}}


def _wanted_path(params, record, path):
    """``path`` when the instance should have a config drive after this call, else None."""
    return path if params["state"] == "present" and record.get("config_drive") else None


def _build_and_remove(module, to_build, to_remove):
    """Builds first, then removals; any failure undoes every step of this call, newest first."""
    params = module.params
    build = None
    if to_build:
        build = functools.partial(
            make_config_drive, module.run_command, find_iso_tool(module.get_bin_path), publisher=PUBLISHER,
            user_data=params["user_data"], admin_password=params["admin_password"],
            injected_files=params["injected_files"])
    removals = [RemoveDrive(path) for path in to_remove]
    with undo_on_failure() as rollback:
        apply_steps(rollback, [BuildDrive(record, target, build) for record, target in to_build] + removals)
    for removal in removals:
        removal.finish()
