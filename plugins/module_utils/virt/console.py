# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instances' serial console output, as Nova's ``get_console_output`` returned it.

The domain's first serial port writes to ``<instances_path>/<name>/console.log``
(``guest.build_guest``). As Nova's libvirt driver, at most the last ``MAX_CONSOLE_BYTES`` of it
are read (``nova/virt/libvirt/driver.py``), and as its API, the last ``lines`` lines of those
are returned (``nova/compute/api.py`` ``get_console_output`` with ``tail_length``). Line ends
are normalised (the guest's serial line ends in CR LF); bytes that are not UTF-8 are replaced.
"""

from __future__ import annotations

import os

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import instance_file
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_actions import batch_uuids, recorded

MAX_CONSOLE_BYTES = 100 * 1024  # nova/virt/libvirt/driver.py MAX_CONSOLE_BYTES


def tail_lines(path, lines, max_bytes=MAX_CONSOLE_BYTES):
    """(the last ``lines`` lines of the file, whether earlier output was left out); 0 lines means all read."""
    with open(path, "rb") as log:
        log.seek(0, os.SEEK_END)
        size = log.tell()
        log.seek(max(0, size - max_bytes))
        data = log.read()
    text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    found = text.split("\n")
    if found and found[-1] == "":
        found.pop()  # the last line's own newline
    if size > max_bytes and found:
        found.pop(0)  # most likely cut in the middle
    shown = found[-lines:] if lines else found
    return shown, size > max_bytes or len(shown) < len(found)


def console_output(module):
    """``run_module`` entry point of instance_console_info."""
    params = module.params
    lines = validate.whole_number(params["lines"], "lines")
    records = recorded(FactsStore(params["facts_path"]).load(), batch_uuids(params["instances"]))
    consoles = []
    for record in records:
        path = instance_file(params["instances_path"], record["name"], "console_log")
        entry = {"uuid": record["uuid"], "name": record["name"], "display_name": record.get("display_name"),
                 "host": record.get("host"), "path": path, "exists": os.path.isfile(path), "lines": [],
                 "truncated": False}
        if entry["exists"]:
            entry["lines"], entry["truncated"] = tail_lines(path, lines)
        consoles.append(entry)
    return {"changed": False, "consoles": consoles}
