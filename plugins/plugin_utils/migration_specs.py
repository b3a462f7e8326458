# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The moves of a migration request as the batch entries of each per-host step (filters
``moves`` and ``move_specs``), so the roles stay free of mapping logic in Jinja.

A move is one entry of migration_request's ``moves``. A step result is what a role leaves on
each host it ran on: ``{"host": name, "done": [instance uuids], "failed": {uuid: why}}``.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.plugin_utils.migration_request import find_migrations, finishing_move

SIDES = ("source", "target")


def moves_on(moves, host=None, side="source", done=None, not_done=None, other_host=None):
    """The moves whose ``side`` is ``host`` (any host when None); with ``done`` (step results) only
    those a step finished, with ``not_done`` only those it did not finish (failed, or never reached).
    ``other_host`` (true or false) keeps only the moves that change host, or only those that stay."""
    if side not in SIDES:
        raise InvalidInput("side must be one of %s, not %r" % (", ".join(SIDES), side))
    selected = [move for move in moves or [] if host is None or move.get(side) == host]
    if other_host is not None:
        selected = [move for move in selected if bool(other_host) != bool(move.get("same_host"))]
    if done is not None:
        finished = _done(done)
        selected = [move for move in selected if move["uuid"] in finished]
    if not_done is not None:
        finished = _done(not_done)
        selected = [move for move in selected if move["uuid"] not in finished]
    return selected


def _done(results):
    return {uuid for result in results or [] if result for uuid in result.get("done") or []}


def step_failures(results):
    """{uuid: why} of every step result."""
    failed = {}
    for result in results or []:
        for uuid, why in ((result or {}).get("failed") or {}).items():
            failed[uuid] = "%s: %s" % (result.get("host"), why)
    return failed


# --- the entries of each module ----------------------------------------------------------------

def _resize_migrated(moves, **_context):
    return [{"name": m["name"], "uuid": m["uuid"], "same_host": m["same_host"], "target_host": m["target"],
             "target_uri": m["target_uri"], "record": m["record"], "new_flavor": m["new_flavor"]} for m in moves]


def _resize_finished(moves, **_context):
    return [{"name": m["name"], "uuid": m["uuid"], "root_gb": m["new_flavor"].get("root_gb", 0)} for m in moves]


def _uuids(moves, **_context):
    return [{"name": m["name"], "uuid": m["uuid"]} for m in moves]


def _names(moves, **_context):
    """image_cache state=absent takes the instance names only."""
    return [{"name": m["name"]} for m in moves]


def _released(moves, **_context):
    """nova_network state=absent releases by instance uuid, from what the host recorded."""
    return [{"instance_uuid": m["uuid"]} for m in moves]


def _image_cache(moves, disks=None, **_context):
    """The target's image_cache entries: the disk on the base the source's disk uses (0: the original)."""
    entries = []
    for move in moves:
        record = move["record"]
        disk = (disks or {}).get(move["uuid"]) or {}
        entries.append({"name": move["name"], "image_id": record["image_ref"],
                        "kernel_id": record.get("kernel_id") or "", "ramdisk_id": record.get("ramdisk_id") or "",
                        "root_gb": disk.get("base_root_gb") or 0})
    return entries


def _nova_network(moves, **_context):
    """One entry per network: its definition, the target's DHCP server and the instances' addresses."""
    by_network = {}
    for move in moves:
        for network in move.get("networks") or []:
            entry = by_network.setdefault(network["definition"]["uuid"], {
                "network": network["definition"], "dhcp_server": network["dhcp_server"], "instances": []})
            entry["instances"].extend(network["instances"])
    return list(by_network.values())


def _live_checked(moves, **_context):
    return [{"name": m["name"], "uuid": m["uuid"], "target_host": m["target"], "target_uri": m["target_uri"]}
            for m in moves]


def _live_prepared(moves, disks=None, **_context):
    return [{"name": m["name"], "uuid": m["uuid"], "disk": (disks or {}).get(m["uuid"])} for m in moves]


def _live_migrated(moves, network_info=None, **_context):
    return [{"name": m["name"], "uuid": m["uuid"], "target_host": m["target"], "target_uri": m["target_uri"],
             "migration_address": m["migration_address"],
             "network_info": (network_info or {}).get(m["uuid"], [])} for m in moves]


def _records(moves, which="final_record", **_context):
    return [m[which] for m in moves if m.get(which)]


def _confirmed(moves, facts=None, **_context):
    """The records as this host keeps them now (its network info is its own), the resize ended."""
    stored = (facts or {}).get("instances") or {}
    confirmed = []
    for move in moves:
        record = dict(stored.get(move["uuid"]) or move["final_record"])
        for field in ("old_flavor", "old_host"):
            record.pop(field, None)
        record.update(vm_state=move["confirmed_record"]["vm_state"], task_state=None)
        confirmed.append(record)
    return confirmed


SPECS = {
    "resize_migrated": _resize_migrated,
    "resize_finished": _resize_finished,
    "uuids": _uuids,
    "names": _names,
    "released": _released,
    "image_cache": _image_cache,
    "nova_network": _nova_network,
    "live_checked": _live_checked,
    "live_prepared": _live_prepared,
    "live_migrated": _live_migrated,
    "records": _records,
    "confirmed": _confirmed,
}


def move_specs(moves, kind, **context):
    try:
        specs = SPECS[kind]
    except KeyError:
        raise InvalidInput("no move mapping %r (known: %s)" % (kind, ", ".join(sorted(SPECS)))) from None
    return specs(moves or [], **context)


def disks_by_uuid(results):
    """{uuid: disk} from step results that carry ``disks`` (the source's disk as it sent or checked it)."""
    disks = {}
    for result in results or []:
        disks.update((result or {}).get("disks") or {})
    return disks


# --- the report ---------------------------------------------------------------------------------

SUCCESS_STEPS = {  # the step result whose "done" says a move happened
    "resize": "target", "migrate": "target", "live_migrate": "live", "confirm": "confirm", "revert": "restore"}


def move_report(outcome, records, step_results, check_mode=False):
    """{"lines": [...], "failures": [...]} for the outcome of a migration request and its steps.

    ``records``: the compute hosts' ``instances`` sections as read after the moves; ``step_results``:
    every step result the hosts left.
    """
    stored = {}
    for section in records or []:
        for uuid, record in (section or {}).items():
            stored[uuid] = record
    failures = step_failures(step_results)
    stats = {}
    for result in step_results or []:
        stats.update(((result or {}).get("jobs") or {}))
    lines = ["%-20s %-12s %-10s %-10s %-22s %-9s %s" % ("NAME", "ACTION", "FROM", "TO", "FLAVOR", "STATE", "RESULT")]
    for move in (outcome or {}).get("moves") or []:
        record = stored.get(move["uuid"]) or {}
        failed = failures.get(move["uuid"])
        result = "would be done (check mode)" if check_mode else ("FAILED: " + failed if failed else "done")
        job = (stats.get(move["uuid"]) or {})
        if job.get("stats") and not failed:
            result += " (%.1f s, downtime %s ms)" % (job.get("seconds") or 0, job["stats"].get("downtime"))
        flavors = (move.get("old_flavor") or {}).get("name"), (move.get("new_flavor") or {}).get("name")
        lines.append("%-20s %-12s %-10s %-10s %-22s %-9s %s" % (
            move.get("display_name") or move["name"], move["operation"], move.get("source") or "-",
            move.get("target") or "-", flavors[0] if flavors[0] == flavors[1] else "%s -> %s" % flavors,
            record.get("vm_state") or "-", result))
    for entry in (outcome or {}).get("unchanged") or []:
        lines.append("%-20s %-12s %-10s %-10s %-22s %-9s nothing to do: %s" % (
            entry["display_name"], (outcome or {}).get("operation"), entry["host"], entry["host"], "",
            (stored.get(entry["uuid"]) or {}).get("vm_state") or "-", entry["reason"]))
    failed_moves = [move for move in (outcome or {}).get("moves") or [] if move["uuid"] in failures]
    return {"lines": lines,
            "failures": ["%s (%s): %s" % (m.get("display_name") or m["name"], m["operation"], failures[m["uuid"]])
                         for m in failed_moves]}


def resize_leftovers(document, host, name, project_id):
    """Confirm moves for the unfinished resizes named ``name`` that ``host`` is the source of (its
    facts ``document``): what delete_vm.yml cleans up when it deletes an instance that was resized."""
    found = find_migrations({host: document or {}}, name, project_id)
    return [finishing_move("confirm", None, None, source, migration) for source, migration in found.values()]
