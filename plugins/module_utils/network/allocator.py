# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's ``allocate_for_instance`` for a batch: MACs, fixed IPs and DHCP-server addresses.

``fixed_ip_associate_pool`` took the lowest free row; here the free addresses are the pool's
IPSet minus the taken ones, in range arithmetic, and a batch takes its N lowest at once. The order of the
claims follows Nova's: an instance's address first, then (multi_host) the address its host
takes the first time it serves the network, so the seed's first guest is 10.1.0.2 and its
host's DHCP server 10.1.0.3.
"""

from __future__ import annotations

import uuid

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.network.addresses import (
    address_numbers, free_count, lowest_free, parse_ipv4)
from ansible_collections.novalite.compute.plugins.module_utils.network.mac_address import generate_macs


class AllocationRequest:
    """One instance's need for an address on ``host``; address, mac and vif_id are optional."""

    def __init__(self, instance_uuid, hostname, host, instance_name=None, address=None, mac=None, vif_id=None):
        self.instance_uuid = instance_uuid
        self.hostname = hostname
        self.host = host
        self.instance_name = instance_name
        self.address = address
        self.mac = mac
        self.vif_id = vif_id


class AllocationResult:
    def __init__(self):
        self.fixed_ips = []  # fixed ip records, in request order
        self.new_instances = []
        self.dhcp_servers = {}
        self.new_dhcp_hosts = []


def allocate(network, usage, requests, dhcp_hosts=(), requested_dhcp=None, rng=None):
    """Allocate for ``requests`` and give every host in them (and in ``dhcp_hosts``) a DHCP server.

    An instance that already holds an address in ``usage`` gets it back; nothing in ``usage``
    is ever handed out again. Raises InvalidInput before allocating anything.
    """
    _refuse_duplicates(requests)
    existing = {r.instance_uuid: _existing(r, usage) for r in requests}
    fresh = [r for r in requests if existing[r.instance_uuid] is None]
    wanted = {r.address: r for r in fresh if r.address}
    for address, request in wanted.items():
        _check_free(network, usage, address, "requested for instance %s" % request.instance_uuid)
    taken_macs = usage.taken_macs()  # {mac: instance uuid}: a scan of every fixed ip, so done once
    _check_macs_free(taken_macs, fresh)
    hosts = _hosts_in_order(requests, dhcp_hosts)
    dhcp = _known_dhcp_servers(network, usage, hosts, requested_dhcp or {}, wanted)
    claims = _claims(fresh, hosts, dhcp)
    addresses = iter(_take(network, usage, set(wanted) | set(dhcp.values()), len(claims)))
    result = AllocationResult()
    for kind, key in claims:
        if kind == "dhcp":
            dhcp[key] = next(addresses)
            result.new_dhcp_hosts.append(key)
        else:
            wanted[next(addresses)] = key
    result.dhcp_servers = {host: dhcp[host] for host in hosts}
    _assign(network, taken_macs, requests, existing, wanted, result, rng)
    return result


def _refuse_duplicates(requests):
    for field in ("instance_uuid", "address", "mac"):
        seen = set()
        for request in requests:
            value = getattr(request, field)
            if value is not None and value in seen:
                raise InvalidInput("%s %s appears twice in one request" % (field, value), value=value)
            seen.add(value)


def _existing(request, usage):
    """The instance's current fixed ip in ``usage`` (checked against what the request says), or None."""
    record = usage.by_instance.get(request.instance_uuid)
    if record is None:
        return None
    for field in ("address", "mac", "vif_id", "host"):
        wanted = getattr(request, field)
        if wanted is not None and wanted != record.get(field):
            raise InvalidInput("instance %s already holds %s %s (address %s on host %s); %s was requested: "
                               "release it first" % (request.instance_uuid, field, record.get(field),
                                                     record["address"], record.get("host"), wanted),
                               instance_uuid=request.instance_uuid)
    return record


def _check_free(network, usage, address, why):
    reason = network.why_not_in_pool(parse_ipv4(address, "address"))
    if reason:
        raise InvalidInput("address %s %s is not in the pool of %s: %s" % (address, why, network.describe(), reason),
                           value=address)
    holder = usage.holder_of(address)
    if holder:
        raise InvalidInput("address %s %s is already held by %s" % (address, why, holder), value=address)


def _check_macs_free(taken_macs, fresh):
    """Nova generated MACs unique per network; a requested one must be as well."""
    for request in fresh:
        if request.mac in taken_macs:
            raise InvalidInput("mac %s requested for instance %s is already used by instance %s"
                               % (request.mac, request.instance_uuid, taken_macs[request.mac]), value=request.mac)


def _hosts_in_order(requests, dhcp_hosts):
    hosts = []
    for host in [r.host for r in requests] + list(dhcp_hosts):
        if host not in hosts:
            hosts.append(host)
    return hosts


def _known_dhcp_servers(network, usage, hosts, requested, wanted):
    """DHCP servers already recorded, or requested, per host; the rest are claimed from the pool."""
    if not network.multi_host:  # Nova's _get_dhcp_ip: the gateway serves every host
        return {host: network.gateway for host in hosts}
    known = {}
    for host in hosts:
        if host in usage.dhcp_servers:
            given = requested.get(host)
            if given and given != usage.dhcp_servers[host]:
                raise InvalidInput("host %s already serves %s from %s; dhcp_server %s was requested"
                                   % (host, network.describe(), usage.dhcp_servers[host], given), value=given)
            known[host] = usage.dhcp_servers[host]
        elif requested.get(host):
            address = requested[host]
            _check_free(network, usage, address, "requested as the DHCP server of host %s" % host)
            if address in wanted or address in known.values():
                raise InvalidInput("address %s is requested twice (DHCP server of host %s)" % (address, host),
                                   value=address)
            known[host] = address
    return known


def _claims(fresh, hosts, dhcp):
    """("instance", request) and ("dhcp", host) in the order Nova would have allocated them.

    ``hosts`` holds every fresh request's host, so a host without a known DHCP server claims one
    right after its first fresh instance, or (no fresh instance there) at the end.
    """
    claims, claimed_hosts = [], set(dhcp)
    for request in fresh:
        if not request.address:
            claims.append(("instance", request))
        if request.host not in claimed_hosts:
            claims.append(("dhcp", request.host))
            claimed_hosts.add(request.host)
    claims.extend(("dhcp", host) for host in hosts if host not in claimed_hosts)
    return claims


def _take(network, usage, also_taken, count):
    taken = address_numbers(usage.taken_addresses() + list(also_taken))
    addresses = lowest_free(network.pool, taken, count)
    if len(addresses) < count:
        raise NovaliteError("%s is exhausted: %d addresses needed, %d free in %s"
                            % (network.describe(), count, free_count(network.pool, taken), network.cidr),
                            network_id=network.uuid)
    return addresses


def _assign(network, taken_macs, requests, existing, wanted, result, rng):
    """Fixed ip records in request order, with new MACs and VIF ids for the fresh ones."""
    address_of = {request.instance_uuid: address for address, request in wanted.items()}
    macs_needed = [r for r in requests if existing[r.instance_uuid] is None and not r.mac]
    avoid = set(taken_macs) | {r.mac for r in requests if r.mac}
    new_macs = iter(generate_macs(len(macs_needed), avoid, rng))
    for request in requests:
        record = existing[request.instance_uuid]
        if record is None:
            record = {"address": address_of[request.instance_uuid], "mac": request.mac or next(new_macs),
                      "vif_id": request.vif_id or str(uuid.uuid4())}
            result.new_instances.append(request.instance_uuid)
        result.fixed_ips.append({
            "address": record["address"], "network_id": network.uuid, "mac": record["mac"],
            "vif_id": record["vif_id"], "instance_uuid": request.instance_uuid,
            "instance_name": request.instance_name or record.get("instance_name"),
            "hostname": request.hostname, "host": request.host})
