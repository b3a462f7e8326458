# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``qemu-img`` as Nova called it: info (under resource limits), convert, create, resize."""

from __future__ import annotations

import json

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

# Nova's QEMU_IMG_LIMITS: a crafted image must not make qemu-img eat the host.
INFO_ADDRESS_SPACE = 1024 * 1024 * 1024
INFO_CPU_SECONDS = 30
C_LOCALE = {"LC_ALL": "C", "LANG": "C"}


class ImageInfo:
    """The fields of ``qemu-img info --output=json`` that decisions are made on."""

    def __init__(self, document, path):
        self.path = path
        self.format = document.get("format")
        self.backing_file = document.get("full-backing-filename") or document.get("backing-filename")
        specific = (document.get("format-specific") or {}).get("data") or {}
        self.data_file = specific.get("data-file")

    @classmethod
    def parse(cls, text, path):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise NovaliteError("qemu-img info for %s did not print JSON (%s): %r" % (path, exc, text[:200]))
        if not isinstance(document, dict) or not document.get("format"):
            raise NovaliteError("qemu-img info could not tell the format of %s" % path)
        return cls(document, path)


class QemuImg:
    """``tools`` maps command names (qemu-img, prlimit) to the binaries to run."""

    def __init__(self, run_command, tools):
        self.run_command = run_command
        self.tools = tools

    def info(self, path):
        """``qemu-img info`` as ``prlimit --as=1GiB --cpu=30``; never ``--backing-chain``."""
        args = [self.tools["prlimit"], "--as=%d" % INFO_ADDRESS_SPACE, "--cpu=%d" % INFO_CPU_SECONDS, "--",
                self.tools["qemu-img"], "info", "--output=json", path]
        return ImageInfo.parse(run_checked(self.run_command, args, environ_update=C_LOCALE), path)

    def convert_to_raw(self, source, source_format, target):
        run_checked(self.run_command, [self.tools["qemu-img"], "convert", "-f", source_format, "-O", "raw",
                                       source, target], environ_update=C_LOCALE)

    def create_overlay(self, base, target):
        """A qcow2 disk whose backing file is the raw ``base`` (Nova's ``create_cow_image``)."""
        run_checked(self.run_command, [self.tools["qemu-img"], "create", "-q", "-f", "qcow2", "-F", "raw",
                                       "-b", base, target], environ_update=C_LOCALE)

    def resize_raw(self, path, size_bytes):
        run_checked(self.run_command, [self.tools["qemu-img"], "resize", "-q", "-f", "raw", path, str(size_bytes)],
                    environ_update=C_LOCALE)
