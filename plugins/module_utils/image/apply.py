# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carrying out a ``RunPlan``: fetch every base first, then make the instance files, then
remove instance directories and aged-off bases.

Fetching everything first means a bad image (refused, short, wrong sum, too big for its
flavor) fails the run before any instance file exists. Instance files this run made are
removed again when a later step fails; verified base files stay, as in Nova's cache.
"""

from __future__ import annotations

import os
import time

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.image.base_cache import check_fits, touch
from ansible_collections.novalite.compute.plugins.module_utils.image.instance_files import (
    copy_raw, create_console_log, create_overlay, ensure_directory, remove_instance_dir)
from ansible_collections.novalite.compute.plugins.module_utils.image.rollback import CreatedPaths, removed_on_error


class Applied:
    """What the run really did (another fork may have done part of the plan first)."""

    def __init__(self):
        self.created = {}         # instance name -> keys of the files made
        self.disk_bases = {}      # instance name -> base its new disk is backed by
        self.removed_decisions = []


def apply_plan(plan, cache, qemu_img, now=None):
    applied = Applied()
    created = CreatedPaths()
    with removed_on_error(created):
        for image in plan.fetches.values():
            with cache.locked(image):
                cache.ensure_original(image)
        for instance in plan.instances:
            if "disk" in instance.missing:
                with cache.locked(instance.request.image):
                    check_fits(instance.request.image, os.stat(cache.ensure_original(instance.request.image)).st_size,
                               instance.request.root_gb)
        for instance in plan.instances:
            _make_instance_files(instance, cache, qemu_img, created, applied)
    for directory in plan.removals:
        remove_instance_dir(directory)
    _age_off(plan, cache, now if now is not None else time.time(), applied)
    return applied


def _make_instance_files(instance, cache, qemu_img, created, applied):
    if not instance.missing:
        return
    request, paths = instance.request, instance.paths
    made = applied.created.setdefault(request.name, [])
    ensure_directory(paths["instance_dir"], created)
    if "disk" in instance.missing:
        with cache.locked(request.image):
            base = cache.disk_base(request.image, request.root_gb)
            _made(made, created, "disk", lambda: create_overlay(qemu_img, base, paths["disk"], created))
            touch(base)
            applied.disk_bases[request.name] = base
    for key in ("kernel", "ramdisk"):
        if key in instance.missing:
            image = getattr(request, key)
            with cache.locked(image):
                base = cache.ensure_original(image)
                _made(made, created, key, lambda: copy_raw(base, paths[key], created))
                touch(base)
    if "console_log" in instance.missing:
        _made(made, created, "console_log", lambda: create_console_log(paths["console_log"], created))


def _made(made, created, key, make):
    """Run ``make`` and note ``key`` when it really created the file (not a concurrent run)."""
    before = len(created.paths)
    make()
    if len(created.paths) > before:
        made.append(key)


def _age_off(plan, cache, now, applied):
    for decision in plan.age_off:
        if not decision.remove:
            continue
        with cache.lock(decision.original):
            if plan.request.policy.still_removable(decision, now):
                _unlink(decision.path)
                applied.removed_decisions.append(decision)
                continue
        decision.remove = False
        decision.reason = "used or removed by another run while the age-off ran; kept"


def _unlink(path):
    try:
        os.unlink(path)
    except OSError as exc:
        raise NovaliteError("cannot remove unused base file %s: %s" % (path, exc.strerror or exc))
