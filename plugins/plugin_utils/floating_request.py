# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The floating_ip_request action: Nova's network API half of allocate / associate / disassociate /
release, for one instance or a ``name-1 .. name-N`` batch, planned once on the controller.

Every check runs before the ledger is touched (the action, the pool and its ranges, the address,
the instances, the owner, the quota); the plan then says, per host, what the floating_ip module
there does in its one call. An allocation takes the lowest free address of the pool from the
union of every host's facts and the ledger, under the ledger's lock, and is reserved there. The
address is kept (recorded in the facts) by the host of the instance it is for, or for a plain
allocate by ``keeper`` (the first compute host unless named).
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.plugin_utils.floating_ips import (
    DEFAULT_POOL, DEFAULT_QUOTA, FLOATING_KIND, POOL_OPTIONS, FloatingTable, checked_pools, find_pool,
    fixed_networks_of, row_fields)
from ansible_collections.novalite.compute.plugins.plugin_utils.instance_lookup import find_instances
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import DEFAULT_STATE_DIR, DEFAULT_TTL_SECONDS

ACTIONS = ("allocate", "associate", "disassociate", "release")
FLOATING_IP_REQUEST_SPEC = {
    "action": {"type": "str", "required": True, "choices": list(ACTIONS)},
    "vm_name": {"type": "str"},
    "address": {"type": "str"},
    "pool": {"type": "str", "default": DEFAULT_POOL},
    "project_id": {"type": "str", "required": True},
    "keeper": {"type": "str"},
    "floating_ranges": {"type": "list", "elements": "dict", "options": POOL_OPTIONS, "default": []},
    "networks": {"type": "dict", "default": {}},
    "quotas": {"type": "dict", "default": {}},
    "hosts": {"type": "list", "elements": "str", "required": True},
    "state_dir": {"type": "path", "default": DEFAULT_STATE_DIR},
    "ledger_ttl": {"type": "int", "default": int(DEFAULT_TTL_SECONDS)},
}


def fixed_ip_of(record, documents):
    """The instance's fixed IP, from its host's facts (the record's network_info may lag)."""
    document = documents.get(record["host"]) or {}
    for fixed in (document.get("fixed_ips") or {}).values():
        if fixed.get("instance_uuid") == record["uuid"]:
            return fixed["address"]
    return None


class FloatingRequestPlan:
    """What each host does: rows to keep or drop, associations to make or undo."""

    def __init__(self):
        self.by_host = {}
        self.affected = []

    def host(self, name):
        return self.by_host.setdefault(name, {"allocate": [], "release": [], "associate": [], "disassociate": [],
                                              "kept_elsewhere": []})

    def add(self, host, kind, entry):
        self.host(host)[kind].append(entry)
        self.touch(entry["address"] if isinstance(entry, dict) else entry)

    def touch(self, address):
        """List ``address`` in the result (also when nothing changes for it)."""
        if address not in self.affected:
            self.affected.append(address)


def plan_floating_request(args, documents, ledger, check_mode=False):
    validate.require_netaddr()
    action, project_id = args["action"], validate.one_line(args["project_id"], "project_id")
    if not project_id:
        raise InvalidInput("project_id is empty")
    address = validate.optional_ipv4_address(args.get("address"), "address")
    quota = validate.whole_number(args["quotas"].get("floating_ips", DEFAULT_QUOTA), "quota floating_ips", -1)
    definitions = [d for d in validate.mapping(args["networks"], "networks").values() if isinstance(d, dict)]
    pools = checked_pools(args["floating_ranges"], fixed_networks_of(documents, definitions))
    vm_name = validate.display_name(args["vm_name"], "vm_name") if args.get("vm_name") else None
    instances = [dict(record, host=record.get("host") or host)
                 for host, record in find_instances(documents, vm_name, project_id)] if vm_name else []
    _check_arguments(action, vm_name, address, instances)
    with ledger.session(write=not check_mode) as session:
        table = FloatingTable(documents)
        table.reconcile(session)
        plan = FloatingRequestPlan()
        if action == "allocate":
            _allocate(args, plan, table, session, pools, project_id, address, quota, list(documents))
        elif action == "associate":
            _associate(args, plan, table, session, pools, project_id, address, quota, instances, documents)
        else:
            _unbind(plan, table, session, project_id, address, instances, release=action == "release")
    return _output(plan, table, documents)


def _check_arguments(action, vm_name, address, instances):
    if action == "allocate" and vm_name:
        raise InvalidInput("allocate takes no vm_name: associate allocates and associates one for each instance")
    if action == "associate" and not vm_name:
        raise InvalidInput("associate needs vm_name (the instance, or name for the batch name-1 .. name-N)")
    if action == "associate" and address and len(instances) != 1:
        raise InvalidInput("address %s is one floating IP: vm_name names %d instances (%s)"
                           % (address, len(instances), ", ".join(r["display_name"] for r in instances)))
    if action in ("disassociate", "release") and not (vm_name or address):
        raise InvalidInput("%s needs address or vm_name" % action)


def _allocate(args, plan, table, session, pools, project_id, address, quota, hosts):
    keeper = args.get("keeper") or hosts[0]
    if keeper not in hosts:
        raise InvalidInput("keeper %s is not one of the compute hosts (%s)" % (keeper, ", ".join(hosts)),
                           value=keeper)
    pool = find_pool(pools, args["pool"])
    for row in table.allocate(session, pool, project_id, [keeper], address=address, quota=quota):
        plan.add(keeper, "allocate", row_fields(row))


def _associate(args, plan, table, session, pools, project_id, address, quota, instances, documents):
    fixed = {r["uuid"]: fixed_ip_of(r, documents) for r in instances}
    for record in instances:
        if fixed[record["uuid"]] is None:
            raise InvalidInput("instance %s (%s) has no fixed IP on %s yet" % (
                record["display_name"], record["uuid"], record["host"]), value=record["display_name"])
    if address:
        row = table.rows.get(address)
        if row is None:
            raise InvalidInput("floating IP %s is not allocated: allocate it first" % address, value=address)
        if row["project_id"] != project_id:
            raise InvalidInput("floating IP %s belongs to project %s, not to %s" % (address, row["project_id"], project_id),
                               value=address)
        _bind(plan, table, row, instances[0], fixed[instances[0]["uuid"]])
        return
    for record in instances:
        for bound in table.association_of_instance(record["uuid"]):
            plan.touch(bound["address"])
    wanting = [r for r in instances if not table.association_of_instance(r["uuid"])]
    if not wanting:
        return
    pool = find_pool(pools, args["pool"])
    rows = table.allocate(session, pool, project_id, [r["host"] for r in wanting], quota=quota)
    for record, row in zip(wanting, rows):
        plan.add(record["host"], "allocate", row_fields(row))
        _bind(plan, table, row, record, fixed[record["uuid"]])


def _bind(plan, table, row, record, fixed_ip):
    current = table.associations.get(row["address"])
    if current and current["instance_uuid"] == record["uuid"]:
        plan.touch(row["address"])
        return  # already so
    if current:  # Nova's associate disassociated it from where it was first
        plan.add(current["host"], "disassociate", row["address"])
    entry = {"address": row["address"], "instance_uuid": record["uuid"], "fixed_ip": fixed_ip}
    plan.add(record["host"], "associate", entry)
    if row.get("keeper") != record["host"]:
        plan.host(record["host"])["kept_elsewhere"].append(row_fields(row))
    table.associations[row["address"]] = dict(entry, host=record["host"], pool=row["pool"],
                                              project_id=row["project_id"])


def _unbind(plan, table, session, project_id, address, instances, release):
    uuids = {r["uuid"] for r in instances}
    addresses = [address] if address else sorted(a for a, assoc in table.associations.items()
                                                 if assoc["instance_uuid"] in uuids)
    for found in addresses:
        row, bound = table.rows.get(found), table.associations.get(found)
        if row is None and bound is None:
            raise InvalidInput("floating IP %s is not allocated" % found, value=found)
        owner = (row or bound)["project_id"]
        if owner != project_id:
            raise InvalidInput("floating IP %s belongs to project %s, not to %s" % (found, owner, project_id),
                               value=found)
        if instances and bound and bound["instance_uuid"] not in uuids:
            raise InvalidInput("floating IP %s is associated with another instance (%s)"
                               % (found, bound["instance_uuid"]), value=found)
        if release and bound and not instances:
            raise InvalidInput("floating IP %s is associated with instance %s (fixed IP %s): disassociate it "
                               "first" % (found, bound["instance_uuid"], bound["fixed_ip"]), value=found)
        if bound:
            plan.add(bound["host"], "disassociate", found)
            del table.associations[found]
        if release and row:
            if not row.get("reserved"):
                plan.add(row["keeper"], "release", found)
            session.forget(FLOATING_KIND, found)
            del table.rows[found]


def _output(plan, table, documents):
    names = {r["uuid"]: r["display_name"] for d in documents.values()
             for r in (d.get("instances") or {}).values()}
    listed = []
    for address in plan.affected:
        row, bound = table.rows.get(address) or {}, table.associations.get(address) or {}
        listed.append({"address": address, "pool": row.get("pool") or bound.get("pool"),
                       "project_id": row.get("project_id") or bound.get("project_id"),
                       "keeper": row.get("keeper"), "allocated": bool(row), "auto_assigned": row.get("auto_assigned"),
                       "instance": names.get(bound.get("instance_uuid")), "instance_uuid": bound.get("instance_uuid"),
                       "fixed_ip": bound.get("fixed_ip"), "host": bound.get("host")})
    return {"changed": any(any(entries.values()) for entries in plan.by_host.values()),
            "by_host": plan.by_host, "floating_ips": listed}
