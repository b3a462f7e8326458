# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config drive: Nova's ``nova/virt/configdrive.py`` and the metadata it carries
(``nova/api/metadata/base.py`` ``InstanceMetadata``, in network/metadata.py), and the
``config_drive`` module's work.

A cloud-init compatible ISO 9660 volume labelled ``config-2`` holding what Nova's
``metadata_for_config_drive`` wrote: ``openstack/<version>/meta_data.json``, ``user_data``,
``vendor_data.json`` and ``network_data.json`` for every OpenStack version and ``latest``,
``ec2/<version>/meta-data.json`` and ``user-data`` for 2009-04-04 and ``latest``, and injected
files under ``openstack/content/``, made with the genisoimage flags Nova used. It lives in the
instance directory as ``disk.config`` (common/instance_dir.py). As in Nova's
``LibvirtDriver.spawn``, a drive is built once and never rebuilt.

The instance's secrets, its user data and administrator password, are also written to the
instance directory as root-only files (``user_data``, ``admin_password``, mode 0600), whether or
not the instance has a drive: the network's metadata server reads them from there. Each is
written once, when the instance first gets it, and goes with the instance's directory.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.files import remove_quietly, write_atomic
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import (
    INSTANCE_FILES, instance_file)
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import apply_steps, undo_on_failure
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.network.metadata import (
    ADMIN_PASSWORD_FILE, LATEST, SECRET_MODE, USER_DATA_FILE, InstanceMetadata, hostname_of, openstack_meta_data)

CONFIG_DRIVE_NAME = INSTANCE_FILES["config_drive"]
VOLUME_LABEL = "config-2"
ISO_TOOLS = ("genisoimage", "mkisofs", "xorrisofs")  # same options; Debian, older RHEL, newer RHEL
PUBLISHER = "novalite.compute"
REQUIRED_FIELDS = ("uuid", "name", "display_name", "hostname")
ASIDE_SUFFIX = ".removing"  # a drive being removed waits here until the whole batch is done
SECRET_FILES = (("user_data", USER_DATA_FILE), ("admin_password", ADMIN_PASSWORD_FILE))


# --- what the drive holds ----------------------------------------------------------------------

def meta_data(record, admin_password=None, injected_files=()):
    """openstack/latest/meta_data.json, as Nova's InstanceMetadata wrote it."""
    return openstack_meta_data(record, LATEST, hostname_of(record), admin_password, injected_files)


def write_tree(root, record, user_data=None, admin_password=None, injected_files=()):
    """Every file of the drive under ``root`` (Nova's metadata_for_config_drive)."""
    metadata = InstanceMetadata(record, hostname_of(record), user_data=user_data, admin_password=admin_password,
                                injected_files=injected_files)
    for path, text in metadata.config_drive_files():
        target = os.path.join(root, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        _write(target, text)


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


class WriteSecrets:
    """The instance's missing secret files, root-only; its undo removes what it wrote."""

    changed = True

    def __init__(self, directory, secrets):
        self.name = "write the secrets of %s" % directory
        self.directory = directory
        self.secrets = secrets  # {file name: text}
        self.written = []
        self.made_directory = False

    def apply(self):
        if not os.path.isdir(self.directory):
            os.makedirs(self.directory)
            self.made_directory = True
        for file_name, text in sorted(self.secrets.items()):
            path = os.path.join(self.directory, file_name)
            write_atomic(path, text, mode=SECRET_MODE)
            self.written.append(path)

    def undo(self):
        remove_quietly(*self.written)
        if self.made_directory and not os.listdir(self.directory):
            os.rmdir(self.directory)


def secrets_to_write(params, drives):
    """{uuid: {file name: text}} of the secrets the instances lack (present only); never the text in a diff."""
    wanted = {}
    if params["state"] != "present":
        return wanted
    for uuid, record, path in drives:
        directory = os.path.dirname(path)
        missing = {file_name: params[option] for option, file_name in SECRET_FILES
                   if params.get(option) and not os.path.exists(os.path.join(directory, file_name))}
        if missing:
            wanted[uuid] = missing
    return wanted


def secrets_present(drives):
    """{uuid: [secret file names present]} for the diff (names only)."""
    return {uuid: sorted(f for _option, f in SECRET_FILES if os.path.exists(os.path.join(os.path.dirname(path), f)))
            for uuid, _record, path in drives}


def ensure_config_drives(module):
    """Build the wanted drives that are missing and remove the unwanted ones, write the missing secrets,
    as one undoable run."""
    params = module.params
    drives = planned_drives(params)
    before = {uuid: path if os.path.exists(path) else None for uuid, _record, path in drives}
    after = {uuid: _wanted_path(params, record, path) for uuid, record, path in drives}
    to_build = [(record, after[uuid]) for uuid, record, _path in drives if after[uuid] and not before[uuid]]
    to_remove = [before[uuid] for uuid, _record, _path in drives if before[uuid] and not after[uuid]]
    secrets = secrets_to_write(params, drives)
    had = secrets_present(drives)
    if not module.check_mode and (to_build or to_remove or secrets):
        _build_and_remove(module, to_build, to_remove, [WriteSecrets(os.path.dirname(path), secrets[uuid])
                                                        for uuid, _record, path in drives if uuid in secrets])
    will_have = {uuid: sorted(set(had[uuid]) | set(secrets.get(uuid, {}))) for uuid in had}
    diff = {"before": before, "after": after}
    if secrets:
        diff = {"before": dict(before, secrets=had), "after": dict(after, secrets=will_have)}
    return {"changed": bool(to_build or to_remove or secrets), "config_drives": after, "secrets": will_have,
            "diff": diff}


def _wanted_path(params, record, path):
    """``path`` when the instance should have a config drive after this call, else None."""
    return path if params["state"] == "present" and record.get("config_drive") else None


def _build_and_remove(module, to_build, to_remove, secret_steps=()):
    """Secrets and builds first, then removals; any failure undoes every step of this call, newest first."""
    params = module.params
    build = None
    if to_build:
        build = functools.partial(
            make_config_drive, module.run_command, find_iso_tool(module.get_bin_path), publisher=PUBLISHER,
            user_data=params["user_data"], admin_password=params["admin_password"],
            injected_files=params["injected_files"])
    removals = [RemoveDrive(path) for path in to_remove]
    with undo_on_failure() as rollback:
        apply_steps(rollback, list(secret_steps) + [BuildDrive(record, target, build) for record, target in to_build]
                    + removals)
    for removal in removals:
        removal.finish()
