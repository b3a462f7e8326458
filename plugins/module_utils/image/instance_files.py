# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One instance's directory: ``disk`` (qcow2 overlay), ``kernel``, ``ramdisk``, ``console.log``.

Each file is made under a temporary name and linked into place, so a file that exists is
always whole and an existing file is never overwritten, not even by a concurrent run.
"""

from __future__ import annotations

import errno
import os
import shutil

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.image.naming import FILE_NAMES

CONSOLE_LOG_MODE = 0o660  # Nova wrote console.log with umask 007


def instance_paths(layout, name):
    """``instance_dir`` and the path of each file of FILE_NAMES, by its key."""
    directory = layout.instance_dir(name)
    paths = {"instance_dir": directory}
    paths.update((key, os.path.join(directory, file_name)) for key, file_name in FILE_NAMES.items())
    return paths


def ensure_directory(path, created):
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o755)
        created.add(path)


def create_overlay(qemu_img, base, target, created):
    _create_via_link(target, created, lambda temporary: qemu_img.create_overlay(base, temporary))


def copy_raw(base, target, created):
    _create_via_link(target, created, lambda temporary: shutil.copyfile(base, temporary))


def create_console_log(target, created):
    _create_via_link(target, created, create_empty_console_log)


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


def _create_via_link(target, created, make):
    temporary = "%s.%d.tmp" % (target, os.getpid())
    try:
        make(temporary)
        os.link(temporary, target)  # fails with EEXIST instead of replacing a file
        created.add(target)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise NovaliteError("cannot create %s: %s" % (target, exc.strerror or exc))
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
