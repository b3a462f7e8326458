# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ipam_allocate action: allocate from every host's facts plus the controller's ledger.

Facts are gathered at the start of a play, so two plays started together each miss what the
other is about to commit. Every allocation is therefore also reserved in the controller's
ledger, under its lock, and counted as taken by later allocations until the TTL passes.

A reservation stays after the host's facts show it (a play whose facts were gathered before
that commit still needs it), and goes early only when it can no longer matter: the facts show
its VIF released, or the instance or the address held by something else (facts win), or the
delete flow releases the instance here. So the ledger never brings back a released address.
A release is found by instance in every network's reservations, so it needs no network
definition (one changed or broken since the instance was created must not block a delete).

With ``floating_ip`` every instance of the requests that has no floating IP yet gets one of the
pool, auto-assigned (Nova's ``auto_assign_floating_ip``: no quota, released with the instance),
kept by the instance's host (plugin_utils/floating_ips.py). The result also carries every name
of the network (``dns_names``, from every host's facts and this allocation: each host's
dnsmasq answers for all of them) and the hosts that serve the network without an instance in the
requests (``other_hosts``), to be told those names as Nova's ``update_dns`` told every host.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NETWORK, NetworkRecord
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import (
    INSTANCE_FIELDS, AllocationRequest, NetworkUsage, allocate)
from ansible_collections.novalite.compute.plugins.plugin_utils.floating_ips import (
    DEFAULT_POOL, POOL_OPTIONS, FloatingTable, checked_pools, find_pool, fixed_networks_of, forget_instances,
    row_fields)
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import DEFAULT_STATE_DIR, DEFAULT_TTL_SECONDS

REQUEST_OPTIONS = {
    "instance_uuid": {"type": "str", "required": True},
    "instance_name": {"type": "str"},
    "hostname": {"type": "str", "required": True},
    "host": {"type": "str", "required": True},
    "address": {"type": "str"},
    "mac": {"type": "str"},
    "project_id": {"type": "str"},
}

IPAM_ALLOCATE_SPEC = {
    "network": NETWORK,
    "requests": {"type": "list", "elements": "dict", "options": REQUEST_OPTIONS, "default": []},
    "release": {"type": "list", "elements": "str", "default": []},
    "hosts": {"type": "list", "elements": "str"},
    "state_dir": {"type": "path", "default": DEFAULT_STATE_DIR},
    "ledger_ttl": {"type": "int", "default": int(DEFAULT_TTL_SECONDS)},  # the ledger keeps seconds as a float
    "floating_ip": {"type": "bool", "default": False},
    "floating_pool": {"type": "str", "default": DEFAULT_POOL},
    "floating_ranges": {"type": "list", "elements": "dict", "options": POOL_OPTIONS, "default": []},
}
FIXED_IPS_KIND = "fixed_ips/"  # + network uuid: {instance uuid: fixed ip record}
DHCP_SERVERS_KIND = "dhcp_servers/"  # + network uuid: {host: address}


def allocate_on_controller(args, documents, ledger, check_mode=False, rng=None):
    """``args``: network, requests, release; ``documents``: {host: facts document}.

    A call that only releases does not read ``network``: it works from the ledger alone.
    """
    validate.require_netaddr()
    to_release = [validate.uuid(u, "release[%d]" % i) for i, u in enumerate(args["release"])]
    network = None if to_release and not args["requests"] else _network(args)
    requests = [_parse_request(entry, index, documents) for index, entry in enumerate(args["requests"])]
    projects = {entry["instance_uuid"]: entry.get("project_id") for entry in args["requests"]}
    pool = _floating_pool(args, documents, network, projects) if args.get("floating_ip") and requests else None
    with ledger.session(write=not check_mode) as session:
        released = _release(session, to_release)
        forget_instances(session, to_release)
        if network is None:
            return dict(_output(None, None, released), dns_names={}, other_hosts=[])
        usage = NetworkUsage(network)
        for host, document in documents.items():
            usage.add_facts(host, document)
        _reconcile(session, network, usage)
        result = allocate(network, usage, requests, rng=rng)
        _reserve(session, network, result)
        floating = _auto_assign(session, documents, pool, requests, projects, result) if pool else {}
    output = _output(network, result, released, floating)
    output["dns_names"] = _dns_names(network, documents, result)
    output["other_hosts"] = sorted(host for host, document in documents.items()
                                   if network.uuid in (document.get("networks") or {}) and host not in output["by_host"])
    return output


def _floating_pool(args, documents, network, projects):
    """The pool of auto-assigned floating IPs, checked (with the fixed ranges) before the ledger is opened."""
    pools = checked_pools(args["floating_ranges"], fixed_networks_of(documents, [network.to_facts()]))
    for instance_uuid, project_id in projects.items():
        if not project_id:
            raise InvalidInput("floating_ip: requests need project_id (instance %s has none)" % instance_uuid)
    return find_pool(pools, args["floating_pool"])


def _auto_assign(session, documents, pool, requests, projects, result):
    """{instance uuid: floating row} for every request; an instance's existing floating IP is kept."""
    table = FloatingTable(documents)
    table.reconcile(session)
    hosts = {record["instance_uuid"]: record["host"] for record in result.fixed_ips}
    chosen, wanting = {}, []
    for request in requests:
        bound = table.association_of_instance(request.instance_uuid)
        row = table.rows.get(bound[0]["address"]) if bound else table.auto_row_of(request.instance_uuid)
        if row is not None:
            chosen[request.instance_uuid] = row
        else:
            wanting.append(request)
    for project_id in sorted({projects[r.instance_uuid] for r in wanting}):
        batch = [r for r in wanting if projects[r.instance_uuid] == project_id]
        rows = table.allocate(session, pool, project_id, [hosts[r.instance_uuid] for r in batch], auto_assigned=True,
                              instance_uuids=[r.instance_uuid for r in batch])
        chosen.update((r.instance_uuid, row) for r, row in zip(batch, rows))
    return chosen


def _dns_names(network, documents, result):
    """{address: hostname} of every instance of the network: every host's fixed IPs and this allocation's."""
    names = {record["address"]: record["hostname"] for document in documents.values()
             for record in (document.get("fixed_ips") or {}).values() if record.get("network_id") == network.uuid}
    names.update((record["address"], record["hostname"]) for record in result.fixed_ips)
    return {address: names[address] for address in sorted(names)}


def _network(args):
    if args.get("network") is None:
        raise InvalidInput("network is required, unless the call only releases instances")
    return NetworkRecord.from_params(args["network"])


def _parse_request(entry, index, documents):
    where = "requests[%d]" % index
    host = entry.get("host")
    if host not in documents:
        raise InvalidInput("%s.host %r is not one of the hosts whose facts are read (%s)"
                           % (where, host, ", ".join(sorted(documents))), value=host)
    return AllocationRequest.from_params(entry, host, where)


def _release(session, instance_uuids):
    """Forget the instances' reservations in every network; their addresses, in release order."""
    kinds = sorted(kind for kind in session.entries if kind.startswith(FIXED_IPS_KIND))
    released = []
    for instance_uuid in instance_uuids:
        for kind in kinds:
            reserved = session.reserved(kind).get(instance_uuid)
            if reserved:
                released.append(reserved["address"])
                session.forget(kind, instance_uuid)
    return released


def _reconcile(session, network, usage):
    """Add the live reservations to ``usage``; forget those the facts have made moot."""
    fixed_kind, dhcp_kind = FIXED_IPS_KIND + network.uuid, DHCP_SERVERS_KIND + network.uuid
    for instance_uuid, record in session.reserved(fixed_kind).items():
        in_facts = usage.by_instance.get(instance_uuid)
        holder = usage.fixed_ips.get(record["address"])
        if (record["vif_id"] in usage.released_vif_ids
                or (in_facts and in_facts["vif_id"] != record["vif_id"])
                or (holder and holder["instance_uuid"] != instance_uuid)
                or record["address"] in usage.dhcp_servers.values()):
            session.forget(fixed_kind, instance_uuid)
        else:
            usage.add_fixed_ip(record)
    for host, address in session.reserved(dhcp_kind).items():
        serving = usage.dhcp_servers.get(host)
        if (serving and serving != address) or address in usage.fixed_ips:
            session.forget(dhcp_kind, host)
        else:
            usage.add_dhcp_server(host, address)


def _reserve(session, network, result):
    new = set(result.new_instances)
    for record in result.fixed_ips:
        if record["instance_uuid"] in new:
            session.reserve(FIXED_IPS_KIND + network.uuid, record["instance_uuid"], record)
    for host in result.new_dhcp_hosts:
        session.reserve(DHCP_SERVERS_KIND + network.uuid, host, result.dhcp_servers[host])


def _output(network, result, released, floating=None):
    """The action's result; without a network (a release alone) nothing was allocated."""
    fixed_ips = result.fixed_ips if result else []
    dhcp_servers = result.dhcp_servers if result else {}
    floating = floating or {}
    by_host = {host: {"dhcp_server": address, "instances": [], "floating_ips": []}
               for host, address in dhcp_servers.items()}
    for record in fixed_ips:
        by_host[record["host"]]["instances"].append({field: record[field] for field in INSTANCE_FIELDS})
        if record["instance_uuid"] in floating:
            row = row_fields(floating[record["instance_uuid"]])
            by_host[record["host"]]["floating_ips"].append(dict(row, instance_uuid=record["instance_uuid"]))
    new_floating = [row for row in floating.values() if row.get("new")]
    return {
        "changed": bool(released or new_floating or (result and (result.new_instances or result.new_dhcp_hosts))),
        "network": network.to_facts() if network else None,
        "allocations": fixed_ips,
        "dhcp_servers": dhcp_servers,
        "by_host": by_host,
        "released": released,
    }
