# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images from the controller's catalog to a compute host: the controller's half of image_cache.

The catalog is the Glance stand-in and lives on the controller, and so do the image files its
local locations (absolute paths, ``file://`` URLs) name. A compute host does not share the
controller's filesystem, so it is never asked to read those paths: the controller reads the
catalog with the loader the request step uses (``catalog.load_catalog_file``), confines every
local location of an image the batch uses to the image directories *on the controller* with
the rule the module applies on a host (``catalog.check_location``, through ``catalog.ImageUse``),
and hands the host the records with the ids of the images it sends itself (``delivered_images``).
The host says which of them it has no base file for (``delivery_needed``); only those are sent,
into the task's temporary directory, and the module verifies and caches them like a download.
http(s) locations stay the host's to fetch, within its allowed schemes.

Plain functions and classes without Ansible objects; plugins/action/image_cache.py does the
module calls and the transfers.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.image.cache import delivered_file_name
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import (
    ImageUse, checked_entries, load_catalog_file, location_parts)

# The options only the controller reads; the module gets the records and the delivered ids instead.
CONTROLLER_OPTIONS = ("controller_catalog", "controller_image_dirs")


def controller_image_dirs(catalog_path, extra_dirs=None):
    """The controller directories local image files may lie in: the catalog's own, then ``extra_dirs``."""
    dirs = [os.path.dirname(validate.absolute_path(catalog_path, "controller_catalog"))]
    dirs.extend(validate.absolute_path(d, "controller_image_dirs[%d]" % i)
                for i, d in enumerate(validate.sequence(extra_dirs, "controller_image_dirs")))
    return dirs


class Transfer:
    """One image to send: its id, its file on the controller, its file name on the host."""

    def __init__(self, image, path):
        self.image_id = image.id
        self.path = path
        self.name = delivered_file_name(image.id)


class ImageDelivery:
    """What the controller hands a host for one image_cache task with ``controller_catalog``.

    ``args`` are the task's arguments, validated with the module's argument spec. Everything is
    checked here, before any module call: the catalog's form, each instance's images (with the
    module's rules) and every local location they have, against ``controller_image_dirs``.
    """

    def __init__(self, args, load_catalog=load_catalog_file):
        catalog_path = os.path.abspath(os.path.expanduser(args["controller_catalog"]))
        self.image_dirs = controller_image_dirs(catalog_path, args.get("controller_image_dirs"))
        self.catalog = load_catalog(catalog_path)
        entries, _names = checked_entries(args.get("instances"))
        use = ImageUse(entries if args.get("state", "present") == "present" else [], self.catalog,
                       self.image_dirs, args.get("allowed_schemes") or [])
        # {image id: resolved path on the controller} of the used images with a local location
        self.files = {image_id: source for image_id, source in use.sources.items()
                      if location_parts(use.images[image_id].location)[0] == "file"}
        self.records = [use.images[image_id].as_dict() for image_id in sorted(use.images)]

    def module_args(self, task_args):
        """The module's arguments: the task's own, the used records in place of the catalog file,
        and which of them the controller sends."""
        args = {key: value for key, value in task_args.items() if key not in CONTROLLER_OPTIONS}
        if self.records:
            args.update(images=self.records, delivered_images=sorted(self.files))
        return args

    def transfers(self, needed):
        """A ``Transfer`` per image id the host asked for, every one checked before any is sent.

        The host can only ask for images this delivery sends (a host's answer never names a
        controller file), and a file whose size is not the catalog's is refused here rather
        than sent and refused on the host.
        """
        needed = validate.sequence(needed, "delivery_needed")
        unknown = sorted(set(needed) - set(self.files))
        if unknown:
            raise NovaliteError("the host asked for images this task does not send from the controller: %s"
                                % ", ".join(map(str, unknown)))
        return [self._checked(self.catalog.images[image_id], self.files[image_id]) for image_id in sorted(set(needed))]

    @staticmethod
    def _checked(image, path):
        what = "image %s: %s on the controller" % (image.label(), path)
        try:
            status = os.stat(path)
        except OSError as exc:
            raise InvalidInput("%s cannot be read: %s; nothing was sent" % (what, exc.strerror or exc),
                               image_id=image.id) from None
        if not stat.S_ISREG(status.st_mode):
            raise InvalidInput("%s is not a regular file; nothing was sent" % what, image_id=image.id)
        if image.size is not None and status.st_size != image.size:
            raise InvalidInput("%s is %d bytes, the catalog records %d; nothing was sent"
                               % (what, status.st_size, image.size), image_id=image.id)
        return Transfer(image, path)
