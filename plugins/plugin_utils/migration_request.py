# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's compute api for instances that move: ``resize``, ``confirm_resize``, ``revert_resize``,
``migrate`` (a resize to the same flavor) and ``live_migrate`` (``nova/compute/api.py``), with the
scheduler's part (``nova/scheduler``, a request spec with ``ignore_hosts``).

Everything is checked on the controller before any host is touched: the instances (by display
name, ``name-1 ... name-N`` or uuid), their states, the flavor (a root disk is never shrunk), the
quota (only the positive deltas of cores and RAM, as Nova's ``_reserve_quota_delta``), the image
(a target must be able to cache its base), the target host (the scheduler's filters: enabled, RAM,
cores, disk; a migration never picks the instance's own host), and the network on the target
(its DHCP server, taken under the IPAM ledger when the target does not serve the network yet).
The answer is one "move" per instance for the roles, or a refusal naming the cause; what is
already as asked (the flavor it has, the host it is on, a resize confirmed) is listed as unchanged.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import (
    ACTIVE, RESIZED, RUNNING, STOPPED, records_of)
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import FIELDS as NETWORK_FIELDS
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NetworkRecord
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import NetworkUsage, allocate
from ansible_collections.novalite.compute.plugins.plugin_utils.instance_lookup import (
    find_instances, names_match, unknown_instance)
from ansible_collections.novalite.compute.plugins.plugin_utils.ipam import DHCP_SERVERS_KIND, FIXED_IPS_KIND
from ansible_collections.novalite.compute.plugins.plugin_utils.request import (
    QuotaExceeded, effective_quotas, find_flavor, project_usage)
from ansible_collections.novalite.compute.plugins.plugin_utils.scheduler import host_states, schedule_moves

OPERATIONS = ("resize", "confirm", "revert", "migrate", "live_migrate")
MOVABLE = (ACTIVE, STOPPED)  # a stopped instance can be resized and cold-migrated, and stays stopped
SHUTDOWN = 4  # Nova's power_state.SHUTDOWN
TASK_STATES = {"resize": "resize_migrating", "migrate": "resize_migrating", "live_migrate": "migrating",
               "confirm": "resize_confirming", "revert": "resize_reverting"}


class MoveRefused(NovaliteError):
    """The request cannot be done as asked; nothing was changed anywhere."""


def plan_moves(args, documents, hostvars, catalog=None, ledger=None, check_mode=False):
    """The migration_request result for ``args`` (the action's arguments) and the hosts' facts."""
    operation = validate.choice(args["operation"], OPERATIONS, "operation")
    name = validate.display_name(args["name"], "name")
    found = find_instances(documents, name, args["project_id"], missing_ok=operation in ("confirm", "revert"))
    validate.reject_duplicates([record["uuid"] for _host, record in found],
                               "instances recorded on more than one host (uuid)")
    if operation in ("confirm", "revert"):
        return _finish_resizes(operation, name, args, documents, found)
    target = args.get("target_host")
    if target is not None and target not in documents:
        raise MoveRefused("target_host %s is not one of the compute hosts (%s)" % (target, ", ".join(documents)))
    if operation == "resize" and not args.get("flavor"):
        raise InvalidInput("a resize needs the new flavor (-e flavor=NAME); migrate_vm.yml moves an instance "
                           "without changing its flavor")
    flavor = find_flavor(args["flavor"], args.get("flavors")) if operation == "resize" else None
    moves, unchanged = [], []
    for host, record in found:
        reason = _unchanged(operation, record, host, flavor, target)
        if reason:
            unchanged.append({"display_name": record["display_name"], "uuid": record["uuid"], "host": host,
                              "reason": reason})
            continue
        _check_movable(operation, record)
        new_flavor = flavor or record["flavor"]
        if operation == "resize":
            check_root_disk(record, new_flavor)
        moves.append(_move(operation, record, host, new_flavor, args))
    if operation == "resize" and moves:
        check_quota_deltas(records_of(documents), moves, effective_quotas(args.get("quotas")), args["project_id"])
    if moves:
        _place(moves, hostvars, list(documents), args)
        for move in moves:
            _complete_move(move, documents, args, catalog)
        _target_dhcp_servers(moves, documents, ledger, check_mode)
    return _result(operation, moves, unchanged)


def _unchanged(operation, record, host, flavor, target):
    """Why a move would change nothing (a re-run), or None."""
    if operation == "resize" and record["flavor"].get("name") == flavor["name"] and (
            target is None or target == host):
        return "has flavor %s already" % flavor["name"]
    if operation in ("migrate", "live_migrate") and target == host:
        return "is on %s already" % host
    return None


def _check_movable(operation, record):
    what = "instance %s (%s)" % (record["display_name"], record["uuid"])
    state, task = record.get("vm_state"), record.get("task_state")
    if state == RESIZED:
        raise MoveRefused("%s is resized from %s on %s and awaits confirm or revert (resize_vm.yml "
                          "-e resize_action=confirm or revert) before it can %s"
                          % (what, (record.get("old_flavor") or {}).get("name"), record.get("old_host"),
                             operation.replace("_", " ")))
    allowed = (ACTIVE,) if operation == "live_migrate" else MOVABLE
    if state not in allowed or task:
        raise MoveRefused("%s is %s%s: %s needs it %s with no task running"
                          % (what, state, " (task %s)" % task if task else "", operation.replace("_", " "),
                             " or ".join(allowed)))
    if operation == "live_migrate" and record.get("power_state") != RUNNING:
        raise MoveRefused("%s is not running (power state %s): a live migration needs it running"
                          % (what, record.get("power_state")))


def check_root_disk(record, new_flavor):
    """Nova's resize never shrinks the root disk (root_gb 0 is the image's own size, the smallest)."""
    old, new = record["flavor"].get("root_gb", 0), new_flavor.get("root_gb", 0)
    if new < old or (old and not new):
        raise MoveRefused("instance %s: flavor %s has a %d GB root disk, smaller than the %d GB of %s: a disk is "
                          "never shrunk" % (record["display_name"], new_flavor["name"], new, old,
                                            record["flavor"].get("name")))


def check_quota_deltas(all_records, moves, quotas, project_id):
    """Only the growth is reserved: the positive deltas of cores and RAM of the batch."""
    usage = project_usage(all_records, project_id)
    deltas = {"cores": 0, "ram": 0}
    for move in moves:
        deltas["cores"] += max(0, move["new_flavor"]["vcpus"] - move["old_flavor"]["vcpus"])
        deltas["ram"] += max(0, move["new_flavor"]["memory_mb"] - move["old_flavor"]["memory_mb"])
    for resource, wanted in deltas.items():
        limit = quotas[resource]
        if wanted and limit >= 0 and usage[resource] + wanted > limit:
            raise QuotaExceeded("quota exceeded for %s in project %s: the resize adds %d, in use %d, limit %d"
                                % (resource, project_id, wanted, usage[resource], limit),
                                resource=resource, requested=wanted, in_use=usage[resource], limit=limit)


# --- the moves --------------------------------------------------------------------------------

def _move(operation, record, host, new_flavor, args):
    return {
        "operation": operation, "uuid": record["uuid"], "name": record["name"],
        "display_name": record["display_name"], "source": host, "target": None,
        "old_flavor": record["flavor"], "new_flavor": new_flavor,
        "power_on": record.get("vm_state") == ACTIVE, "record": record,
        "auto_confirm": bool(args.get("auto_confirm")) and operation != "live_migrate",
    }


def _place(moves, hostvars, hosts, args):
    """The scheduler's answer for every move (one batch: each placement counts for the next)."""
    ratios = {"ram": args["ram_allocation_ratio"], "cpu": args["cpu_allocation_ratio"],
              "disk": args["disk_allocation_ratio"]}
    requests = []
    for move in moves:
        record, resize = move["record"], move["operation"] == "resize"
        requests.append({"id": move["uuid"], "label": "%s (%s)" % (record["display_name"], record["name"]),
                         "flavor": dict(move["new_flavor"]) if resize else dict(move["old_flavor"]),
                         "target_host": args.get("target_host"), "availability_zone": record.get("availability_zone"),
                         "ignore_hosts": [] if resize else [move["source"]],
                         "prefer_host": move["source"] if resize else None})
    try:
        placements = schedule_moves(requests, host_states(hostvars, hosts, ratios))
    except NovaliteError as exc:
        raise MoveRefused(exc.msg, **exc.details) from None
    for move in moves:
        move["target"] = placements[move["uuid"]]
        move["same_host"] = move["target"] == move["source"]


def _complete_move(move, documents, args, catalog):
    """What the roles need for one move: URIs, the image, the network, the records before and after."""
    record, target = move["record"], move["target"]
    move["target_uri"] = migration_uri(args, target) if not move["same_host"] else None
    move["migration_address"] = _migration_address(args, target) if not move["same_host"] else None
    if not move["same_host"]:
        _check_image(record, catalog)
        move["networks"] = instance_networks(documents[move["source"]], record["uuid"])
    else:
        move["networks"] = []
    live = move["operation"] == "live_migrate"
    move["moving_record"] = dict(record, task_state=TASK_STATES[move["operation"]])
    final = dict(record, host=target, flavor=move["new_flavor"], task_state=None)
    if live:
        final.update(vm_state=ACTIVE)
    else:
        final.update(vm_state=RESIZED, old_flavor=move["old_flavor"], old_host=move["source"],
                     power_state=RUNNING if move["power_on"] else SHUTDOWN)
    move["final_record"] = final
    move["confirmed_record"] = _ended(final, record.get("vm_state"))
    move["reverted_record"] = dict(record, task_state=None)


def _ended(record, vm_state):
    """A resized record once the resize is over: the old flavor and host forgotten."""
    ended = {key: value for key, value in record.items() if key not in ("old_flavor", "old_host")}
    ended.update(vm_state=vm_state, task_state=None)
    return ended


def migration_uri(args, host):
    """Nova's live_migration_uri (a %s template) filled with the target's migration address."""
    template = args.get("migration_uri")
    if not template or "%s" not in template:
        raise MoveRefused("moving an instance to %s needs novalite_migration_uri, a libvirt URI with %%s for the "
                          "target's address (e.g. qemu+ssh://root@%%s/system)" % host)
    return template % _migration_address(args, host)


def _migration_address(args, host):
    return (args.get("migration_addresses") or {}).get(host) or host


def _check_image(record, catalog):
    """A target caches the instance's base (and kernel and ramdisk) from the catalog: they must be in it."""
    if catalog is None:
        return
    for field in ("image_ref", "kernel_id", "ramdisk_id"):
        ref = record.get(field)
        if ref and ref not in catalog.images:
            raise MoveRefused("instance %s: its %s %s is not in the image catalog any more, so no other host can "
                              "cache its base" % (record["display_name"], field, ref))


def instance_networks(document, instance_uuid):
    """[{definition, instances: [nova_network entry]}] of the instance's fixed IPs on a host, per network,
    the network as that host recorded it."""
    by_network = {}
    for fixed_ip in sorted((document.get("fixed_ips") or {}).values(), key=lambda f: f["address"]):
        if fixed_ip.get("instance_uuid") != instance_uuid:
            continue
        recorded = (document.get("networks") or {}).get(fixed_ip["network_id"])
        if recorded is None:
            raise MoveRefused("instance %s holds %s in network %s, which its host has no record of"
                              % (instance_uuid, fixed_ip["address"], fixed_ip["network_id"]))
        entry = by_network.setdefault(fixed_ip["network_id"], {
            "definition": {field: recorded.get(field) for field in NETWORK_FIELDS if field in recorded},
            "instances": [], "dhcp_server": None})
        entry["instances"].append({key: fixed_ip.get(key) for key in (
            "instance_uuid", "instance_name", "hostname", "address", "mac", "vif_id")})
    return list(by_network.values())


def _target_dhcp_servers(moves, documents, ledger, check_mode):
    """Each target's DHCP server on each network: recorded there, or taken now as ipam_allocate
    would (from every host's facts and the ledger, reserved in it)."""
    for move in moves:
        for network in move["networks"]:
            recorded = ((documents[move["target"]].get("networks") or {}).get(network["definition"]["uuid"]) or {})
            network["dhcp_server"] = recorded.get("dhcp_server") or _new_dhcp_server(
                network["definition"], move["target"], documents, ledger, check_mode)


def _new_dhcp_server(definition, host, documents, ledger, check_mode):
    network = NetworkRecord.from_params(definition)
    if not network.multi_host:
        return network.gateway
    if ledger is None:
        raise MoveRefused("%s has no DHCP server on %s yet and no IPAM ledger was given" % (host, network.describe()))
    with ledger.session(write=not check_mode) as session:
        usage = NetworkUsage(network)
        for name, document in documents.items():
            usage.add_facts(name, document)
        for record in session.reserved(FIXED_IPS_KIND + network.uuid).values():
            usage.add_fixed_ip(record)  # reserved for a run that has not committed yet: taken
        for reserved_host, address in session.reserved(DHCP_SERVERS_KIND + network.uuid).items():
            usage.add_dhcp_server(reserved_host, address)
        result = allocate(network, usage, [], dhcp_hosts=[host])
        for new_host in result.new_dhcp_hosts:
            session.reserve(DHCP_SERVERS_KIND + network.uuid, new_host, result.dhcp_servers[new_host])
    return result.dhcp_servers[host]


# --- confirm and revert -----------------------------------------------------------------------

def _finish_resizes(operation, name, args, documents, found):
    """Moves that end resizes: from the target's resized record and the source's migration record.

    A migration record whose instance is gone (deleted while resized) is cleaned up by a confirm.
    """
    migrations = find_migrations(documents, name, args["project_id"])
    moves, unchanged = [], []
    for host, record in found:
        if record.get("vm_state") != RESIZED:
            unchanged.append({"display_name": record["display_name"], "uuid": record["uuid"], "host": host,
                              "reason": "has no resize to %s (vm_state %s)" % (operation, record.get("vm_state"))})
            continue
        source, migration = migrations.pop(record["uuid"], (record.get("old_host"), None))
        if migration is None:
            raise MoveRefused("instance %s is resized from %s, and %s has no migration record of it: its "
                              "source host's facts were not read, or the resize was undone by hand"
                              % (record["display_name"], record.get("old_host"), source))
        moves.append(finishing_move(operation, record, host, source, migration))
    for uuid, (source, migration) in sorted(migrations.items()):
        if operation == "confirm":  # the instance is gone: only the source's leftovers remain
            moves.append(finishing_move(operation, None, None, source, migration))
    if not moves and not unchanged:
        raise unknown_instance(documents, name, args["project_id"])
    return _result(operation, moves, unchanged)


def find_migrations(documents, name, project_id):
    """{instance uuid: (source host, migration record)} of unfinished resizes named ``name``."""
    matches = names_match(name)
    found = {}
    for host, document in sorted(documents.items()):
        for uuid, migration in ((document.get("migrations") or {}).items()):
            if migration.get("project_id") == project_id and matches(
                    {"uuid": uuid, "display_name": migration.get("display_name")}):
                found[uuid] = (host, migration)
    return found


def finishing_move(operation, record, host, source, migration):
    old_record = dict(migration.get("old_record") or {}, task_state=None)
    same_host = (host or migration.get("dest_compute")) == source
    move = {
        "operation": operation, "uuid": migration["instance_uuid"], "name": migration["instance_name"],
        "display_name": migration.get("display_name"), "source": source, "target": host,
        "same_host": same_host, "old_flavor": migration.get("old_flavor"), "new_flavor": migration.get("new_flavor"),
        "power_on": old_record.get("vm_state") == ACTIVE, "record": record, "auto_confirm": False,
        "orphan": record is None, "networks": [], "target_uri": None, "migration_address": None,
        "moving_record": dict(record, task_state=TASK_STATES[operation]) if record else None,
        "final_record": record, "confirmed_record": _ended(record, old_record.get("vm_state")) if record else None,
        "reverted_record": old_record,
    }
    return move


# The host groups the playbook's plays run on, by step (the request role adds the hosts to them).
STEP_GROUPS = {
    "resize": ("novalite_resize_sources", "novalite_resize_targets"),
    "migrate": ("novalite_resize_sources", "novalite_resize_targets"),
    "live_migrate": ("novalite_live_sources", "novalite_live_targets"),
    "confirm": ("novalite_confirm_sources", "novalite_confirm_targets"),
    "revert": ("novalite_revert_sources", "novalite_revert_targets"),
}


def step_groups(operation, moves):
    """{group: [hosts]} for the plays of the moves (a resize that confirms at once adds the confirm's)."""
    groups = {}

    def add(operation_groups, chosen):
        for group, side in zip(operation_groups, ("source", "target")):
            hosts = sorted({move[side] for move in chosen if move[side]})
            if hosts:
                groups.setdefault(group, set()).update(hosts)
    add(STEP_GROUPS[operation], moves)
    add(STEP_GROUPS["confirm"], [move for move in moves if move.get("auto_confirm")])
    return {group: sorted(hosts) for group, hosts in sorted(groups.items())}


def _result(operation, moves, unchanged):
    sources = sorted({m["source"] for m in moves if m["source"]})
    targets = sorted({m["target"] for m in moves if m["target"]})
    return {"changed": bool(moves), "operation": operation, "moves": moves, "unchanged": unchanged,
            "sources": sources, "targets": targets, "hosts_used": sorted(set(sources) | set(targets)),
            "step_groups": step_groups(operation, moves)}
