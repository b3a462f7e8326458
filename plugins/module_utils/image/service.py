# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image_cache module: its request, the plan, the apply, the result and the diff.

``ensure_state`` checks all input (``ImageCacheRequest``: every instance, every image it uses
and where that image may be read from) before anything is touched, works out once what the run
must do (``ImageCachePlan``), and either reports it (check mode) or applies it through the
collection's one undo contract, ``common/rollback.py``.
"""

from __future__ import annotations

import os
import time

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.common.files import remove_quietly
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import (
    INSTANCE_FILES, remove_instance_dir)
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import undo_on_failure
from ansible_collections.novalite.compute.plugins.module_utils.image.cache import (
    AgeOffPolicy, BaseCache, BaseUsers, CacheLayout, age_off_report, check_fits, classify_base_name, copy_raw,
    create_console_log, create_overlay, delivered_file_name, disk_base_name, ensure_instance_dir, original_base_name,
    touch)
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import (
    DEFAULT_ALLOWED_SCHEMES, REMOTE_SCHEMES, Catalog, ImageUse, InstanceImages, checked_entries, load_catalog_file)
from ansible_collections.novalite.compute.plugins.module_utils.image.fetch import (
    QemuImg, SourceOptions, qcow2_backing_file)

REQUIRED_TOOLS = {"qemu-img": "qemu-utils", "prlimit": "util-linux", "cp": "coreutils"}
OPTIONAL_TOOLS = ("e2label", "e2fsck", "resize2fs")  # without them a resized disk keeps its filesystem size
IMAGE_FILES = ("disk", "kernel", "ramdisk", "console_log")  # the instance files this module makes


def ensure_state(module):
    # _ansible_tmpdir: the directory the action plugin made for this task and sent delivered images
    # into (None when it made none); module.tmpdir would make a fresh, empty one instead.
    request = ImageCacheRequest(module.params, staging_dir=getattr(module, "_tmpdir", None))
    tools = find_tools(module.get_bin_path)
    return run(request, module.run_command, tools, check_mode=module.check_mode)


def find_tools(get_bin_path):
    tools = {name: get_bin_path(name, required=False) for name in list(REQUIRED_TOOLS) + list(OPTIONAL_TOOLS)}
    missing = ["%s (package %s)" % (name, package) for name, package in REQUIRED_TOOLS.items() if not tools[name]]
    if missing:
        raise NovaliteError("image_cache needs %s on this host" % ", ".join(missing))
    return tools


# --- the request ------------------------------------------------------------------------------

class ImageCacheRequest:
    """The module's input, checked whole; ``sources`` says where each image used is read from.

    An image in ``delivered_images`` is read only from the copy the controller sent into the
    task's temporary directory (``staging_dir``, Ansible's ``_ansible_tmpdir``), under the name
    ``delivered_file_name`` derives from its id; None when this task has no such directory.
    """

    def __init__(self, params, load_catalog=load_catalog_file, staging_dir=None):
        self.layout = CacheLayout(params["instances_path"])
        self.state = params["state"]
        self.cache_cleanup = params["cache_cleanup"]
        self.policy = AgeOffPolicy(validate.whole_number(params["original_minimum_age"], "original_minimum_age"),
                                   validate.whole_number(params["resized_minimum_age"], "resized_minimum_age"))
        self.facts_path = params.get("facts_path")
        self.lock_timeout = _seconds(params["lock_timeout"], "lock_timeout")
        self.image_dirs = _image_dirs(params)
        self.allowed_schemes = _allowed_schemes(params)
        self.source_options = SourceOptions(_seconds(params["download_timeout"], "download_timeout"),
                                            params["use_proxy"], self.allowed_schemes)
        self.delivered = _delivered(params)
        self.staging_dir = staging_dir
        self.sources, self.shown = {}, {}
        self.instances = self._instances(params, load_catalog)

    def _instances(self, params, load_catalog):
        if params.get("controller_catalog"):
            raise InvalidInput("controller_catalog is read on the controller by the image_cache action plugin, "
                               "which did not run for this call")
        entries, names = checked_entries(params.get("instances"))
        if self.state == "absent":
            return [InstanceImages(name) for name in names]
        if not entries:
            return []
        use = ImageUse(entries, _catalog(params, load_catalog), self.image_dirs, self.allowed_schemes, self.delivered)
        self.sources.update(use.sources)
        for image_id in sorted(self.delivered & set(use.images)):
            self.sources[image_id] = self.delivered_path(image_id)
            self.shown[image_id] = "%s (as delivered from the controller)" % use.images[image_id].location
        return use.instances

    def delivered_path(self, image_id):
        """Where the controller's copy of ``image_id`` is, or None without a staging directory."""
        return os.path.join(self.staging_dir, delivered_file_name(image_id)) if self.staging_dir else None

    def has_arrived(self, image_id):
        """Whether an image can be read now: any image not delivered, a delivered one once its copy is here."""
        if image_id not in self.delivered:
            return True
        path = self.delivered_path(image_id)
        return path is not None and os.path.isfile(path)

    def remove_delivered(self):
        """The controller's copies go once used (or refused): the verified base is what stays."""
        if self.staging_dir:
            remove_quietly(*[self.delivered_path(image_id) for image_id in sorted(self.delivered)])


def _delivered(params):
    ids = validate.sequence(params.get("delivered_images"), "delivered_images")
    return frozenset(validate.uuid(image_id, "delivered_images[%d]" % i) for i, image_id in enumerate(ids))


def _image_dirs(params):
    """The directories local image files may be read from; by default the catalog file's own."""
    dirs = params.get("image_dirs")
    if dirs is None:
        return [os.path.dirname(os.path.abspath(params["catalog"]))] if params.get("catalog") else []
    return [validate.absolute_path(d, "image_dirs[%d]" % i) for i, d in enumerate(validate.sequence(dirs, "image_dirs"))]


def _allowed_schemes(params):
    schemes = validate.sequence(params.get("allowed_schemes", DEFAULT_ALLOWED_SCHEMES), "allowed_schemes")
    return [validate.choice(s, REMOTE_SCHEMES, "allowed_schemes[%d]" % i) for i, s in enumerate(schemes)]


def _catalog(params, load_catalog):
    if params.get("catalog"):
        return load_catalog(params["catalog"])
    if params.get("images") is not None:
        return Catalog(params["images"], origin="images")
    raise InvalidInput("state=present with instances needs the image catalog: set catalog (a file) or images (records)")


def _seconds(value, what):
    """A timeout: a number of seconds above 0 (common/validate.py has no rule for a float yet)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidInput("%s %r: expected a number of seconds above 0" % (what, value), value=value)
    return value


# --- the plan: worked out once from what is on disk -------------------------------------------

class InstanceFilesPlan:
    def __init__(self, request, layout):
        self.request = request
        self.paths = {key: layout.instance_file(request.name, key) for key in IMAGE_FILES}
        self.paths["instance_dir"] = layout.instance_dir(request.name)
        self.wanted = [key for key, image in (("disk", True), ("kernel", request.kernel),
                                              ("ramdisk", request.ramdisk), ("console_log", True)) if image]
        self.missing = [key for key in self.wanted if not os.path.lexists(self.paths[key])]
        self.disk_base = self._disk_base(layout)

    def base_of(self, key, layout):
        """The base file ``key`` (kernel/ramdisk) is copied from, or None."""
        image = getattr(self.request, key)
        return layout.base_path(original_base_name(image)) if image else None

    def _disk_base(self, layout):
        image, root_gb = self.request.image, self.request.root_gb
        if "disk" not in self.missing:
            return qcow2_backing_file(self.paths["disk"])
        original = layout.base_path(original_base_name(image))
        # a raw image's virtual size is its byte size, known before it is fetched
        size = os.stat(original).st_size if os.path.exists(original) else (
            image.size if image.qemu_format == "raw" else None)
        if size is not None:
            check_fits(image, size, root_gb)  # refused now, before anything is written
        return layout.base_path(disk_base_name(image, size, root_gb))

    def result(self, layout, created):
        request = self.request
        return dict(
            {key: self.paths[key] if key in self.wanted else None for key in IMAGE_FILES},
            instance_dir=self.paths["instance_dir"], image_id=request.image.id,
            kernel_id=request.kernel.id if request.kernel else None,
            ramdisk_id=request.ramdisk.id if request.ramdisk else None, root_gb=request.root_gb,
            base_files={"disk": self.disk_base, "kernel": self.base_of("kernel", layout),
                        "ramdisk": self.base_of("ramdisk", layout)},
            created=sorted(INSTANCE_FILES[key] for key in created))


class ImageCachePlan:
    def __init__(self, request, now=None):
        self.request = request
        layout = request.layout
        present = request.state == "present"
        self.instances = [InstanceFilesPlan(i, layout) for i in request.instances] if present else []
        self.removals = [] if present else [
            layout.instance_dir(i.name) for i in request.instances if os.path.lexists(layout.instance_dir(i.name))]
        self.fetches = self._fetches(layout)
        self.resizes = sorted({p.disk_base for p in self.instances
                               if "disk" in p.missing and not os.path.exists(p.disk_base)} - set(self.fetch_paths()))
        self.age_off = self._age_off(now if now is not None else time.time())

    @property
    def changed(self):
        return bool(self.fetches or self.resizes or self.removals or any(p.missing for p in self.instances)
                    or any(d.remove for d in self.age_off))

    def fetch_paths(self):
        return [self.request.layout.base_path(name) for name in self.fetches]

    def waiting_for_delivery(self):
        """Ids of the images to fetch whose bytes the controller sends and that have not arrived."""
        return sorted(image.id for image in self.fetches.values() if not self.request.has_arrived(image.id))

    def _fetches(self, layout):
        """{original base name: image} of the bases missing files need and that are not there."""
        needed = {}
        for plan in self.instances:
            for key in plan.missing:
                image = plan.request.image if key == "disk" else getattr(plan.request, key, None)
                if image is not None:
                    needed[original_base_name(image)] = image
        return {name: image for name, image in sorted(needed.items())
                if not os.path.exists(layout.base_path(name))}

    def _age_off(self, now):
        request = self.request
        if not request.cache_cleanup:
            return []
        users = BaseUsers()
        for instance in request.instances if request.state == "present" else []:
            users.add(instance.name, instance.image.id, instance.kernel and instance.kernel.id,
                      instance.ramdisk and instance.ramdisk.id)
        removed = set(i.name for i in request.instances) if request.state == "absent" else set()
        for uuid, record in self._facts_instances():
            if record.get("name") not in removed:
                users.add_record(uuid, record)
        users.scan_instance_dirs(request.layout, skip=removed)
        return request.policy.decide(request.layout, users, now)

    def _facts_instances(self):
        if not self.request.facts_path:
            return []
        instances = FactsStore(self.request.facts_path).load().get("instances") or {}
        return sorted(instances.items()) if isinstance(instances, dict) else []


# --- apply ------------------------------------------------------------------------------------

class AppliedWork:
    """What the run really did (another fork may have done part of the plan first)."""

    def __init__(self):
        self.created = {}         # instance name -> keys of the files made
        self.disk_bases = {}      # instance name -> base its new disk is backed by
        self.removed_decisions = []


def run(request, run_command, tools, check_mode=False, now=None):
    plan = ImageCachePlan(request, now)
    diff = image_cache_diff(plan)
    waiting = plan.waiting_for_delivery()
    if check_mode:
        return _result(plan, diff, plan.changed, {p.request.name: p.missing for p in plan.instances}, waiting=waiting)
    if waiting:  # the action plugin sends these and calls again; nothing is touched before
        return _result(plan, diff, False, {}, waiting=waiting)
    try:
        if not plan.changed:
            return _result(plan, diff, False, {})
        qemu_img = QemuImg(run_command, tools)
        cache = BaseCache(request.layout, qemu_img, run_command, tools, request.sources, request.source_options,
                          lock_timeout=request.lock_timeout, shown=request.shown)
        work = apply_plan(plan, cache, now)
    finally:
        request.remove_delivered()
    changed = bool(cache.fetched or cache.resized or plan.removals or work.removed_decisions
                   or any(work.created.values()))
    for instance in plan.instances:  # what the disk really got, if a concurrent run changed the picture
        instance.disk_base = work.disk_bases.get(instance.request.name, instance.disk_base)
    return _result(plan, diff, changed, work.created, cache)


def apply_plan(plan, cache, now=None):
    """Fetch every base first, then make the instance files, then remove directories and age off.

    Fetching everything first means a bad image (refused, short, wrong sum, too big for its
    flavor) fails the run before any instance file exists. A failure undoes the instance files
    this run made; verified base files stay, as in Nova's cache.
    """
    work = AppliedWork()
    with undo_on_failure() as rollback:
        _fetch_bases(rollback, plan, cache)
        for instance in plan.instances:
            if instance.missing:
                _make_instance_files(rollback, instance, cache, work)
        # The instance files are whole now; a failure below (which nothing can undo) keeps them.
        rollback.forget()
        for directory in plan.removals:
            with rollback.step("remove instance directory " + directory):
                remove_instance_dir(directory)
        with rollback.step("age off unused base files"):
            _age_off(plan, cache, now if now is not None else time.time(), work)
    return work


def _fetch_bases(rollback, plan, cache):
    for name, image in plan.fetches.items():
        with rollback.step("fetch image %s into _base/%s" % (image.label(), name)), cache.locked(image):
            cache.ensure_original(image)
    for instance in plan.instances:  # a qcow2 image's virtual size is known only now
        if "disk" in instance.missing:
            image, root_gb = instance.request.image, instance.request.root_gb
            with rollback.step("check image %s fits root_gb %d" % (image.label(), root_gb)), cache.locked(image):
                check_fits(image, os.stat(cache.ensure_original(image)).st_size, root_gb)


def _make_instance_files(rollback, instance, cache, work):
    request, paths = instance.request, instance.paths
    made = work.created.setdefault(request.name, [])
    with rollback.step("make the instance directory " + paths["instance_dir"]):
        ensure_instance_dir(rollback, paths["instance_dir"])
    if "disk" in instance.missing:
        with rollback.step("make the disk of %s" % request.name), cache.locked(request.image):
            base = cache.disk_base(request.image, request.root_gb)
            _note(made, "disk", create_overlay(rollback, cache.qemu_img, base, paths["disk"]))
            touch(base)
            work.disk_bases[request.name] = base
    for key in ("kernel", "ramdisk"):
        if key in instance.missing:
            image = getattr(request, key)
            with rollback.step("copy the %s of %s" % (key, request.name)), cache.locked(image):
                base = cache.ensure_original(image)
                _note(made, key, copy_raw(rollback, base, paths[key]))
                touch(base)
    if "console_log" in instance.missing:
        with rollback.step("create the console.log of %s" % request.name):
            _note(made, "console_log", create_console_log(rollback, paths["console_log"]))


def _note(made, key, created):
    """A file another run made first is not this run's."""
    if created:
        made.append(key)


def _age_off(plan, cache, now, work):
    for decision in plan.age_off:
        if not decision.remove:
            continue
        with cache.lock(decision.original):
            if plan.request.policy.still_removable(decision, now):
                os.unlink(decision.path)
                work.removed_decisions.append(decision)
                continue
        decision.remove = False
        decision.reason = "used or removed by another run while the age-off ran; kept"


# --- result and diff --------------------------------------------------------------------------

def _result(plan, diff, changed, created, cache=None, waiting=()):
    layout = plan.request.layout
    result = {"changed": changed, "diff": diff,
              "instances": {p.request.name: p.result(layout, created.get(p.request.name, [])) for p in plan.instances},
              "base_files": base_files_report(plan, cache),
              "removed_instances": list(plan.removals),
              "delivery_needed": list(waiting)}
    if plan.request.cache_cleanup:
        result["cache_report"] = age_off_report(plan.age_off)
    return result


def base_files_report(plan, cache=None):
    """The base files this run needed, and whether it fetched, resized or found them."""
    layout, entries = plan.request.layout, {}
    for instance in plan.instances:
        request = instance.request
        wanted = []
        if "disk" in instance.missing:
            wanted.append((layout.base_path(original_base_name(request.image)), "disk", request.image))
            if instance.disk_base != wanted[0][0]:
                wanted.append((instance.disk_base, "resized", request.image))
        wanted.extend((instance.base_of(key, layout), key, getattr(request, key))
                      for key in ("kernel", "ramdisk") if key in instance.missing)
        for path, role, image in wanted:
            entries.setdefault(path, {"name": os.path.basename(path), "path": path, "role": role,
                                      "image_id": image.id, "action": _action(plan, path, cache)})
    return sorted(entries.values(), key=lambda entry: entry["name"])


def _action(plan, path, cache):
    """Check mode says what would happen; a real run says what this run did."""
    if path in plan.fetch_paths():
        return "fetched" if cache is None or path in cache.fetched else "present"
    if path in plan.resizes:
        return "resized" if cache is None or path in cache.resized else "present"
    return "present"


def image_cache_diff(plan):
    """before/after: the names in ``_base`` and the files of the instances the run touches."""
    layout = plan.request.layout
    try:
        existing = set(n for n in os.listdir(layout.base_dir) if classify_base_name(n)[0] != "temporary")
    except FileNotFoundError:
        existing = set()
    added = set(os.path.basename(p) for p in plan.fetch_paths() + plan.resizes)
    aged_off = set(d.name for d in plan.age_off if d.remove)
    before = {"base_files": sorted(existing), "instances": {}}
    after = {"base_files": sorted((existing | added) - aged_off), "instances": {}}
    for instance in plan.instances:
        name = instance.request.name
        before["instances"][name] = sorted(INSTANCE_FILES[k] for k in instance.wanted if k not in instance.missing)
        after["instances"][name] = sorted(INSTANCE_FILES[k] for k in instance.wanted)
    for directory in plan.removals:
        before["instances"][os.path.basename(directory)] = sorted(os.listdir(directory))
    return {"before": before, "after": after}
