# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Glance stand-in: image records from a YAML/JSON file or from inventory variables.

Free of module concerns, so the controller-side request role can use it too.
"""

from __future__ import annotations

import json

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.image.image_record import ImageRecord, canonical_uuid

try:
    import yaml
except ImportError:  # JSON catalogs still work on a host without PyYAML
    yaml = None


class Catalog:
    def __init__(self, records, origin="images"):
        if not isinstance(records, list):
            raise InvalidInput("%s: expected a list of image records, got %r" % (origin, type(records).__name__))
        self.origin = origin
        self.images = {}
        for index, record in enumerate(records):
            image = ImageRecord(record, origin="%s[%d]" % (origin, index))
            if image.id in self.images:
                raise InvalidInput("%s: image id %s is listed twice" % (origin, image.id))
            self.images[image.id] = image

    def find(self, ref):
        """The image whose id is ``ref``, or else the one image named ``ref``."""
        if ref is None or ref == "":
            raise InvalidInput("%s: an image id or name is needed, got %r" % (self.origin, ref))
        try:
            image = self.images.get(canonical_uuid(ref, "id", self.origin))
        except InvalidInput:
            image = None  # not a uuid: try it as a name
        if image is not None:
            return image
        named = [image for image in self.images.values() if image.name == ref]
        if len(named) == 1:
            return named[0]
        if named:
            raise InvalidInput("image name %r is ambiguous in %s: ids %s; use an id"
                               % (ref, self.origin, ", ".join(sorted(i.id for i in named))))
        raise InvalidInput("image %r is not in %s (known: %s)"
                           % (ref, self.origin, ", ".join(sorted(i.label() for i in self.images.values()))))


def load_catalog_file(path):
    """A ``Catalog`` from a YAML or JSON file: a list of records, or ``{images: [...]}``."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise InvalidInput("catalog %s cannot be read: %s" % (path, exc.strerror or exc))
    document = _parse(text, path)
    if isinstance(document, dict) and "images" in document:
        document = document["images"]
    return Catalog(document, origin=path)


def _parse(text, path):
    if path.endswith(".json") or yaml is None:
        try:
            return json.loads(text)
        except ValueError as exc:
            hint = "" if yaml is not None else " (PyYAML is not installed, so only JSON is read)"
            raise InvalidInput("catalog %s is not valid JSON: %s%s" % (path, exc, hint))
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput("catalog %s is not valid YAML: %s" % (path, exc))
