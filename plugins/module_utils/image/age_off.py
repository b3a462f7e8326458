# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The imagecache manager's ``verify_base_images``: remove base files nobody uses, once old.

Age is measured from the file's mtime, which a run that makes instance files from a base
refreshes (Nova did so from Liberty on); every removal re-checks it under the image's lock,
so a base used between the decision and the removal stays.
"""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.image.naming import classify_base_name


class Decision:
    def __init__(self, name, path, kind, remove, reason, original=None):
        self.name, self.path, self.kind, self.original = name, path, kind, original
        self.remove, self.reason = remove, reason

    def as_dict(self):
        return {"name": self.name, "path": self.path, "kind": self.kind, "reason": self.reason}


class AgeOffPolicy:
    def __init__(self, original_minimum_age=86400, resized_minimum_age=3600):
        # Temporary files are a crash's leftovers (a live download holds the lock): resized age.
        self.minimum_age = {"original": original_minimum_age, "resized": resized_minimum_age,
                            "temporary": resized_minimum_age}

    def decide(self, layout, users, now):
        """One ``Decision`` per file in ``_base``, sorted by name."""
        try:
            names = sorted(os.listdir(layout.base_dir))
        except FileNotFoundError:
            return []
        return [self._decide_one(layout.base_path(name), name, users, now) for name in names]

    def still_removable(self, decision, now):
        """Re-check under the lock: the file is there and was not used since the decision."""
        try:
            age = now - os.stat(decision.path).st_mtime
        except FileNotFoundError:
            return False
        return age >= self.minimum_age[decision.kind]

    def _decide_one(self, path, name, users, now):
        kind, original = classify_base_name(name)
        if kind == "unknown" or original is None or not os.path.isfile(path) or os.path.islink(path):
            return Decision(name, path, "unknown", False, "not a file the image cache makes; left alone")
        in_use_by = users.users(name, original)
        if in_use_by and kind != "temporary":
            return Decision(name, path, kind, False, "in use by %s" % ", ".join(in_use_by), original)
        age = int(now - os.stat(path).st_mtime)
        minimum = self.minimum_age[kind]
        if age < minimum:
            return Decision(name, path, kind, False, "unused for %d s, younger than %d s" % (age, minimum), original)
        return Decision(name, path, kind, True, "unused for %d s (minimum age %d s)" % (age, minimum), original)


def report(decisions):
    return {"kept": [d.as_dict() for d in decisions if not d.remove],
            "removed": [d.as_dict() for d in decisions if d.remove]}
