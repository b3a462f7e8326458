#!/usr/bin/env python3
"""Benchmark: IPAM allocations from a /16 with 60,000 addresses already in use.

    .venv/bin/python bench/ipam.py [--repeat 5]

A /16 has 65,533 addresses to hand out (network, gateway and broadcast are not), so with
60,000 in use only 5,533 are free: 10,000 allocations cannot fit. The rows are therefore
1 and 5,533 (every free one) with 60,000 in use, 10,000 with 55,000 in use, and 10,000
asked of the 60,000 case, which must fail as exhausted before allocating anything.

Each row runs on two layouts of the used addresses: "contiguous" (the lowest ones, what
lowest-free allocation leaves behind) and "fragmented" (a random sample: about 5,000 runs of
used addresses, the worst case for set arithmetic). Columns:
  allocate   the allocator alone: the used addresses as sorted integers, the pool's ranges minus
             their runs, the N lowest, N unique MACs and VIF ids (allocator.allocate)
  action     what ipam_allocate does per call: the usage rebuilt from two hosts' facts
             documents, the ledger read and written under its lock, then the allocation
Times are the best of --repeat runs; each run gets a usage rebuilt afresh, outside the timing,
so nothing the allocator caches in it carries over. Prints a table and writes
bench/results/ipam.json (git-ignored). bench/scale.py takes its IPAM figures from ``figures``.
"""

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO / ".collections"))

import netaddr  # noqa: E402

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NetworkRecord  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import (  # noqa: E402
    AllocationRequest, NetworkUsage, allocate)
from ansible_collections.novalite.compute.plugins.plugin_utils.ipam import allocate_on_controller  # noqa: E402
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import ReservationLedger  # noqa: E402

NETWORK = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
           "gateway": None, "dhcp_start": None, "netmask": None, "broadcast": None, "dns1": "8.8.4.4", "dns2": None,
           "bridge": "br100", "bridge_interface": "eth0", "multi_host": True, "project_id": None, "vlan": None,
           "reserved": [], "dhcp_domain": "novalocal"}
HOSTS = ("compute1", "compute2")
ROWS = [(1, 60000), (5533, 60000), (10000, 55000), (10000, 60000)]


def used_addresses(count, layout, network):
    pool = [str(address) for address in netaddr.IPRange(network.dhcp_start, network.network.broadcast - 1)
            if str(address) != network.gateway]
    if layout == "contiguous":
        return pool[:count]
    return random.Random(count).sample(pool, count)


def facts_documents(addresses, network):
    """Two hosts' facts holding ``addresses`` between them (each host's DHCP server among them)."""
    documents = {host: {"schema_version": 1, "instances": {}, "fixed_ips": {}, "networks": {}} for host in HOSTS}
    for index, host in enumerate(HOSTS):
        documents[host]["networks"][network.uuid] = dict(network.to_facts(), dhcp_server=addresses[index], host=host)
    for index, address in enumerate(addresses[len(HOSTS):]):
        host = HOSTS[index % len(HOSTS)]
        documents[host]["fixed_ips"][address] = {
            "address": address, "network_id": network.uuid, "mac": "fa:16:3e:%02x:%02x:%02x" % (
                index >> 16, (index >> 8) & 0xff, index & 0xff),
            "vif_id": "00000000-0000-4000-8000-%012d" % index, "instance_uuid": "10000000-0000-4000-8000-%012d" % index,
            "instance_name": "instance-%08x" % index, "hostname": "used%d" % index, "host": host}
    return documents


def requests(count):
    return [{"instance_uuid": "20000000-0000-4000-8000-%012d" % n, "instance_name": "instance-%08x" % n,
             "hostname": "new%d" % n, "host": HOSTS[n % len(HOSTS)], "address": None, "mac": None}
            for n in range(count)]


def network_facts():
    return NetworkRecord.from_params(NETWORK).to_facts()


def best_of(repeat, action, prepare=None):
    """(best wall-clock seconds, best CPU seconds, outcome) of ``action(prepare())`` (or ``action()``).

    ``prepare`` is not timed. The CPU time (this process's) tells what the work costs when the
    machine is shared and the wall clock waits for other people's processes.
    """
    walls, cpus, outcome = [], [], None
    for _ in range(repeat):
        prepared = prepare() if prepare else None
        started, started_cpu = time.perf_counter(), time.process_time()
        outcome = action(prepared) if prepare else action()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
    return min(walls), min(cpus), outcome


def allocator_only(network, documents, wanted):
    """(prepare, action): a usage rebuilt from the facts (not timed), then the allocation."""
    allocation_requests = [AllocationRequest(r["instance_uuid"], r["hostname"], r["host"]) for r in wanted]

    def prepare():
        usage = NetworkUsage(network)
        for host, document in documents.items():
            usage.add_facts(host, document)
        return usage
    return prepare, lambda usage: _outcome(lambda: allocate(network, usage, allocation_requests).fixed_ips)


def through_action(documents, wanted):
    def action():
        with tempfile.TemporaryDirectory(prefix="nl-bench-ipam-") as state_dir:
            ledger = ReservationLedger(state_dir, name="ipam")
            args = {"network": NETWORK, "requests": wanted, "release": []}
            return _outcome(lambda: allocate_on_controller(args, documents, ledger)["allocations"])
    return action


def _outcome(call):
    try:
        return "%d allocated" % len(call())
    except NovaliteError as error:
        return "refused: " + error.msg


def figures(count, in_use, layout, target):
    """bench/scale.py's rows for ``count`` allocations: (name, target, action, prepare) of the allocator
    alone (held to ``target``) and of the whole ipam_allocate call (for the record)."""
    network = NetworkRecord.from_params(NETWORK)
    documents = facts_documents(used_addresses(in_use, layout, network), network)
    wanted = requests(count)
    prepare, allocator = allocator_only(network, documents, wanted)
    what = "IPAM %d from a /16, %d in use, %s" % (count, in_use, layout)
    return [(what + ": allocator", target, allocator, prepare),
            (what + ": ipam_allocate call", None, through_action(documents, wanted), None)]


def measure(repeat):
    network = NetworkRecord.from_params(NETWORK)
    rows = []
    for count, in_use in ROWS:
        for layout in ("contiguous", "fragmented"):
            documents = facts_documents(used_addresses(in_use, layout, network), network)
            wanted = requests(count)
            prepare, allocator = allocator_only(network, documents, wanted)
            allocate_seconds, _cpu, outcome = best_of(repeat, allocator, prepare)
            action_seconds, _cpu, _outcome_again = best_of(repeat, through_action(documents, wanted))
            rows.append({"allocations": count, "in_use": in_use, "layout": layout, "outcome": outcome,
                         "allocate_ms": round(allocate_seconds * 1000, 2), "action_ms": round(action_seconds * 1000, 2)})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = measure(args.repeat)
    print("%11s %7s %-11s %10s %10s  %s" % ("allocations", "in use", "layout", "allocate", "action", "outcome"))
    for row in rows:
        print("%11d %7d %-11s %8.1fms %8.1fms  %s" % (
            row["allocations"], row["in_use"], row["layout"], row["allocate_ms"], row["action_ms"], row["outcome"][:60]))
    results = {"python": platform.python_version(), "netaddr": netaddr.__version__, "repeat": args.repeat,
               "network": NETWORK["cidr"], "rows": rows}
    out = RESULTS / "ipam.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("wrote %s" % out)


if __name__ == "__main__":
    main()
