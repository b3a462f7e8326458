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
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network import names
from ansible_collections.novalite.compute.plugins.module_utils.network.allocator import allocate
from ansible_collections.novalite.compute.plugins.module_utils.network.argument_specs import INSTANCE_OPTIONS
from ansible_collections.novalite.compute.plugins.module_utils.network.instance_requests import parse_instance
from ansible_collections.novalite.compute.plugins.module_utils.network.netaddr_import import require_netaddr
from ansible_collections.novalite.compute.plugins.module_utils.network.network_record import NetworkRecord
from ansible_collections.novalite.compute.plugins.module_utils.network.network_usage import NetworkUsage

INSTANCE_FIELDS = tuple(INSTANCE_OPTIONS)  # by_host entries are nova_network's ``instances`` items


def allocate_on_controller(args, documents, ledger, check_mode=False, rng=None):
    """``args``: network, requests, release; ``documents``: {host: facts document}."""
    require_netaddr()
    network = NetworkRecord.from_params(args["network"])
    requests = [_parse_request(entry, index, documents) for index, entry in enumerate(args["requests"])]
    to_release = [names.uuid_string(u, "release entry") for u in args["release"]]
    usage = NetworkUsage(network)
    for host, document in documents.items():
        usage.add_facts(host, document)
    with ledger.session(write=not check_mode) as session:
        released = _release(session, network, to_release)
        _reconcile(session, network, usage)
        result = allocate(network, usage, requests, rng=rng)
        _reserve(session, network, result)
    return _output(network, result, released)


def _parse_request(entry, index, documents):
    where = "requests[%d]" % index
    host = entry.get("host")
    if host not in documents:
        raise InvalidInput("%s.host %r is not one of the hosts whose facts are read (%s)"
                           % (where, host, ", ".join(sorted(documents))), value=host)
    return parse_instance(entry, host, where)


def _kinds(network):
    return "fixed_ips/" + network.uuid, "dhcp_servers/" + network.uuid


def _release(session, network, instance_uuids):
    fixed_kind, _dhcp_kind = _kinds(network)
    reserved = session.reserved(fixed_kind)
    released = []
    for instance_uuid in instance_uuids:
        if instance_uuid in reserved:
            released.append(reserved[instance_uuid]["address"])
            session.forget(fixed_kind, instance_uuid)
    return released


def _reconcile(session, network, usage):
    """Add the live reservations to ``usage``; forget those the facts have made moot."""
    fixed_kind, dhcp_kind = _kinds(network)
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
    fixed_kind, dhcp_kind = _kinds(network)
    new = set(result.new_instances)
    for record in result.fixed_ips:
        if record["instance_uuid"] in new:
            session.reserve(fixed_kind, record["instance_uuid"], record)
    for host in result.new_dhcp_hosts:
        session.reserve(dhcp_kind, host, result.dhcp_servers[host])


def _output(network, result, released):
    by_host = {host: {"dhcp_server": address, "instances": []} for host, address in result.dhcp_servers.items()}
    for record in result.fixed_ips:
        by_host[record["host"]]["instances"].append({field: record[field] for field in INSTANCE_FIELDS})
    return {
        "changed": bool(result.new_instances or result.new_dhcp_hosts or released),
        "network": network.to_facts(),
        "allocations": result.fixed_ips,
        "dhcp_servers": result.dhcp_servers,
        "by_host": by_host,
        "released": released,
    }
