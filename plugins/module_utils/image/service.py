# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image_cache module's service: validate, plan once, report (check mode) or apply."""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.image.age_off import report as age_off_report
from ansible_collections.novalite.compute.plugins.module_utils.image.apply import apply_plan
from ansible_collections.novalite.compute.plugins.module_utils.image.base_cache import BaseCache
from ansible_collections.novalite.compute.plugins.module_utils.image.naming import (
    FILE_NAMES, classify_base_name, original_base_name)
from ansible_collections.novalite.compute.plugins.module_utils.image.plan import RunPlan
from ansible_collections.novalite.compute.plugins.module_utils.image.qemu_img import QemuImg
from ansible_collections.novalite.compute.plugins.module_utils.image.request import RunRequest

REQUIRED_TOOLS = {"qemu-img": "qemu-utils", "prlimit": "util-linux", "cp": "coreutils"}
OPTIONAL_TOOLS = ("e2label", "e2fsck", "resize2fs")  # without them a resized disk keeps its filesystem size


def ensure_state(module):
    request = RunRequest(module.params)
    tools = find_tools(module.get_bin_path)
    return run(request, module.run_command, tools, check_mode=module.check_mode)


def find_tools(get_bin_path):
    tools = {name: get_bin_path(name, required=False) for name in list(REQUIRED_TOOLS) + list(OPTIONAL_TOOLS)}
    missing = ["%s (package %s)" % (name, package) for name, package in REQUIRED_TOOLS.items() if not tools[name]]
    if missing:
        raise NovaliteError("image_cache needs %s on this host" % ", ".join(missing))
    return tools


def run(request, run_command, tools, check_mode=False, now=None):
    plan = RunPlan(request, now)
    diff = plan_diff(plan)
    if check_mode or not plan.changed:
        return _result(plan, diff, plan.changed, {p.request.name: p.missing for p in plan.instances})
    qemu_img = QemuImg(run_command, tools)
    cache = BaseCache(request.layout, qemu_img, run_command, tools, lock_timeout=request.lock_timeout,
                      fetch_timeout=request.download_timeout, use_proxy=request.use_proxy)
    applied = apply_plan(plan, cache, qemu_img, now)
    changed = bool(cache.fetched or cache.resized or plan.removals or applied.removed_decisions
                   or any(applied.created.values()))
    for instance in plan.instances:  # what the disk really got, if a concurrent run changed the picture
        instance.disk_base = applied.disk_bases.get(instance.request.name, instance.disk_base)
    return _result(plan, diff, changed, applied.created, cache)


def _result(plan, diff, changed, created, cache=None):
    layout = plan.request.layout
    result = {"changed": changed, "diff": diff,
              "instances": {p.request.name: p.result(layout, created.get(p.request.name, [])) for p in plan.instances},
              "base_files": base_files_report(plan, cache),
              "removed_instances": list(plan.removals)}
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


def plan_diff(plan):
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
        before["instances"][name] = sorted(FILE_NAMES[k] for k in instance.wanted if k not in instance.missing)
        after["instances"][name] = sorted(FILE_NAMES[k] for k in instance.wanted)
    for directory in plan.removals:
        before["instances"][os.path.basename(directory)] = sorted(os.listdir(directory))
    return {"before": before, "after": after}
