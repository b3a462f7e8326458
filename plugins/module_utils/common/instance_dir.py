# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One instance's directory, ``<instances_path>/<instance name>``, as Nova's libvirt driver laid it out.

The image step makes ``disk``, ``kernel`` and ``ramdisk``; the config drive step ``disk.config``;
the domain step ``libvirt.xml`` and ``console.log``. Every step finds the others' files here.
"""

from __future__ import annotations

import os
import shutil

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

# The files of an instance directory, by the key plans and results use for them.
INSTANCE_FILES = {
    "disk": "disk",
    "kernel": "kernel",
    "ramdisk": "ramdisk",
    "console_log": "console.log",
    "libvirt_xml": "libvirt.xml",
    "config_drive": "disk.config",
}
CONSOLE_LOG_MODE = 0o660  # Nova wrote console.log with umask 007


def instance_dir(instances_path, name):
    """The directory of instance ``name`` (checked to stay one safe component under instances_path)."""
    return os.path.join(instances_path, validate.instance_name(name))


def instance_file(instances_path, name, key):
    """The path of file ``key`` (see INSTANCE_FILES) of instance ``name``."""
    return os.path.join(instance_dir(instances_path, name), INSTANCE_FILES[key])


class MovingInstance:
    """One entry of a resize's or live migration's ``instances``, checked: name, uuid, its directory here and
    on the target (under ``target_instances_path``, else under the same path), and ``target_host`` and
    ``target_uri``, how the target is reached (their need is the caller's rule)."""

    def __init__(self, raw, index, instances_path, target_instances_path=None, target_what="target_instances_path"):
        what = "instances[%d]" % index
        self.name = validate.instance_name(raw.get("name"), what + ".name")
        self.uuid = validate.uuid(raw.get("uuid"), what + ".uuid")
        self.what = "instance %s" % self.name
        instances_path = validate.absolute_path(instances_path, "instances_path")
        self.instance_dir = instance_dir(instances_path, self.name)
        self.target_dir = instance_dir(validate.absolute_path(target_instances_path or instances_path, target_what),
                                       self.name)
        self.target_host = validate.one_line(raw.get("target_host"), what + ".target_host")
        self.target_uri = raw.get("target_uri")

    def file(self, key):
        """The path of file ``key`` (see INSTANCE_FILES) in the instance's directory here."""
        return os.path.join(self.instance_dir, INSTANCE_FILES[key])


def create_empty_console_log(path):
    """A new, empty console.log (an existing file is an error) with exactly CONSOLE_LOG_MODE."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, CONSOLE_LOG_MODE)
    try:
        os.fchmod(fd, CONSOLE_LOG_MODE)  # exactly, whatever the umask
    finally:
        os.close(fd)


def remove_instance_dir(path):
    """Nova's ``rmtree`` of the instance directory (a symlink is refused, never followed)."""
    if os.path.islink(path):
        raise NovaliteError("%s is a symlink, not an instance directory; refusing to remove it" % path)
    shutil.rmtree(path)
