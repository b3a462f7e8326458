#!/usr/bin/env python3
"""Benchmark: the controller's work at scale, against issue 13's targets.

    .venv/bin/python bench/scale.py [--repeat 3] [--profile FIGURE]

Figures (each the best of --repeat runs):
  create 1,000 on 100 hosts   request + scheduling + IPAM for 1,000 new instances over 100 compute
                              hosts, each already running 10 (1,000 fixed IPs of a /16 in use). The
                              hosts' variables are what the play gathered: ``ansible_local.novalite``
                              (the facts documents) and ``ansible_facts.novalite_compute_node`` (the
                              capacity compute_node_facts reports). The same functions the action
                              plugins call: instance_request's ``request_instances``,
                              schedule_instances' ``place_instances`` and ipam_allocate's
                              ``allocate_for_play`` (its ledger in a temporary directory). Target 2 s.
  IPAM micro-benchmarks       from bench/ipam.py (the allocator alone, the usage already rebuilt from the
                              facts): one allocation from a /16 with 60,000 addresses in use (target
                              5 ms) and 10,000 at once with 55,000 in use (a /16 has only 65,533 to
                              hand out; target 1 s), each in the worse of its two layouts, plus the
                              same through the whole ipam_allocate call for the record.
Prints a table (figure, wall-clock and CPU seconds, target, met/missed: held to the wall clock, with
the load average beside it, since the machine may be shared) and writes bench/results/scale.json
(git-ignored). ``--profile FIGURE`` (create, ipam-1, ipam-10000) prints cProfile's top functions of
one run instead.
"""

import argparse
import cProfile
import json
import os
import platform
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ipam as ipam_bench  # noqa: E402  bench/ipam.py, which also puts the collection on sys.path

from ansible_collections.novalite.compute.plugins.action.instance_request import request_instances  # noqa: E402
from ansible_collections.novalite.compute.plugins.action.ipam_allocate import allocate_for_play  # noqa: E402
from ansible_collections.novalite.compute.plugins.module_utils.compute.resource_tracker import NODE_FACT  # noqa: E402
from ansible_collections.novalite.compute.plugins.plugin_utils.module_specs import specs_for  # noqa: E402
from ansible_collections.novalite.compute.plugins.plugin_utils.scheduler import DEFAULT_RATIOS, place_instances  # noqa: E402

HOST_COUNT = 100
EXISTING_PER_HOST = 10
NEW_INSTANCES = 1000
NETWORK = ipam_bench.NETWORK
IMAGE = {"id": "66c50770-21a4-46ce-85ee-392f29b05081", "name": "cirros", "status": "active", "disk_format": "qcow2",
         "container_format": "bare", "size": 25165824, "min_ram": 0, "min_disk": 0, "properties": {},
         "location": "http://images.example/cirros.qcow2"}
NODE = {"memory_mb": 262144, "memory_mb_used": 512, "vcpus": 64, "vcpus_used": 0, "local_gb": 4000,
        "local_gb_used": 0, "free_disk_gb": 4000, "hypervisor_type": "QEMU", "cpu_arch": "x86_64"}


def host_name(index):
    return "compute%03d" % (index + 1)


def existing_record(number, host, address):
    uuid = "30000000-0000-4000-8000-%012d" % number
    return uuid, {
        "uuid": uuid, "id": number, "name": "instance-%08x" % number, "display_name": "old-%d" % number,
        "hostname": "old-%d" % number, "project_id": "other", "user_id": "u1", "host": host,
        "flavor": {"name": "m1.tiny", "memory_mb": 512, "vcpus": 1, "root_gb": 0}, "vm_state": "active",
        "power_state": 1, "task_state": None, "network": "private", "security_groups": ["default"],
        "metadata": {}, "network_info": [], "fixed_ip": address}


def hostvars():
    """{host: variables} as the play holds them after setup (gather_subset local) and compute_node_facts."""
    variables = {}
    for index in range(HOST_COUNT):
        host = host_name(index)
        base = 2 + index * (EXISTING_PER_HOST + 1)  # the host's DHCP server, then its instances
        document = {"schema_version": 1, "instances": {}, "fixed_ips": {}, "networks": {
            NETWORK["uuid"]: dict(ipam_bench.network_facts(), dhcp_server=_address(base), host=host)}}
        for offset in range(EXISTING_PER_HOST):
            number = index * EXISTING_PER_HOST + offset + 1
            address = _address(base + offset + 1)
            uuid, record = existing_record(number, host, address)
            document["instances"][uuid] = record
            document["fixed_ips"][address] = {
                "address": address, "network_id": NETWORK["uuid"], "mac": "fa:16:3e:00:%02x:%02x" % (number >> 8, number & 0xff),
                "vif_id": "40000000-0000-4000-8000-%012d" % number, "instance_uuid": uuid,
                "instance_name": record["name"], "hostname": record["hostname"], "host": host}
        node = dict(NODE, memory_mb_used=512 + EXISTING_PER_HOST * 512, vcpus_used=EXISTING_PER_HOST)
        variables[host] = {"ansible_local": {"novalite": document}, "ansible_facts": {NODE_FACT: node},
                           "inventory_hostname": host}
    return variables


def _address(number):
    return "10.1.%d.%d" % (number >> 8, number & 0xff)


def create_thousand(variables, hosts):
    """request + schedule + IPAM, as the create play's three controller steps call them."""
    with tempfile.TemporaryDirectory(prefix="nl-bench-scale-") as state_dir:
        requested = request_instances(_request_args(hosts, state_dir), variables, check_mode=False)
        placed = place_instances(requested["instances"], variables, hosts, {}, dict(DEFAULT_RATIOS))
        args = {"network": NETWORK, "requests": specs_for(placed["instances"], "ipam_allocate"), "release": [],
                "hosts": hosts, "state_dir": state_dir, "ledger_ttl": 3600, "floating_ip": False,
                "floating_pool": "nova", "floating_ranges": []}
        allocated = allocate_for_play(args, {"hostvars": variables, "groups": {"compute": hosts}}, check_mode=False)
    return "%d requested, %d hosts used, %d allocated" % (
        len(requested["created"]), len(placed["hosts_used"]), len(allocated["allocations"]))


def _request_args(hosts, state_dir):
    return {"name": "web", "count": NEW_INSTANCES, "flavor": "m1.tiny", "flavors": {}, "image": IMAGE["id"],
            "catalog": None, "images": [IMAGE], "project_id": "bench", "user_id": "u1", "metadata": {},
            "key_data": None, "user_data": None, "admin_password": None, "injected_files": [], "config_drive": None,
            "security_groups": ["default"], "security_group_definitions": [], "network": "private", "networks": None,
            "image_dirs": [], "image_schemes": ["http", "https"], "availability_zone": None, "target_host": None,
            "group": None, "group_policy": None, "quotas": {"instances": -1, "cores": -1, "ram": -1}, "hosts": hosts,
            "state_dir": state_dir}


def figures():
    """(name, target seconds, action, prepare) of every figure; an action returns its outcome in words."""
    variables = hostvars()
    hosts = [host_name(index) for index in range(HOST_COUNT)]
    rows = [("create %d on %d hosts (request + schedule + IPAM)" % (NEW_INSTANCES, HOST_COUNT), 2.0,
             lambda: create_thousand(variables, hosts), None)]
    for count, in_use, target in ((1, 60000, 0.005), (10000, 55000, 1.0)):
        for layout in ("contiguous", "fragmented"):
            rows.extend(ipam_bench.figures(count, in_use, layout, target))
    return rows


def measure(repeat):
    results = []
    for name, target, action, prepare in figures():
        seconds, cpu_seconds, outcome = ipam_bench.best_of(repeat, action, prepare)
        results.append({"figure": name, "seconds": round(seconds, 4), "cpu_seconds": round(cpu_seconds, 4),
                        "target": target, "met": None if target is None else seconds <= target, "outcome": outcome})
    return results


def profile(which):
    chosen = {"create": 0, "ipam-1": 3, "ipam-10000": 7}[which]  # the fragmented allocator rows for IPAM
    name, _target, action, prepare = figures()[chosen]
    print("profile of: %s" % name)
    profiler = cProfile.Profile()
    if prepare:
        prepared = prepare()
        profiler.runcall(action, prepared)
    else:
        profiler.runcall(action)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", choices=("create", "ipam-1", "ipam-10000"))
    args = parser.parse_args()
    if args.profile:
        profile(args.profile)
        return
    load_before = os.getloadavg()
    results = measure(args.repeat)
    load_after = os.getloadavg()
    print("%-66s %9s %9s %8s  %-6s  %s" % ("figure", "seconds", "cpu", "target", "", "outcome"))
    for row in results:
        target = "%.3f" % row["target"] if row["target"] is not None else "-"
        verdict = "-" if row["met"] is None else ("met" if row["met"] else "MISSED")
        print("%-66s %9.4f %9.4f %8s  %-6s  %s" % (row["figure"], row["seconds"], row["cpu_seconds"], target, verdict,
                                                  row["outcome"][:48]))
    print("targets are held to the wall clock; %d CPUs, load average %.1f before and %.1f after"
          % (os.cpu_count(), load_before[0], load_after[0]))
    out = ipam_bench.RESULTS / "scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"python": platform.python_version(), "machine": platform.machine(),
                               "processor": platform.processor(), "cpus": os.cpu_count(),
                               "load_average": [load_before[0], load_after[0]], "repeat": args.repeat,
                               "figures": results}, indent=2) + "\n")
    print("wrote %s" % out)


if __name__ == "__main__":
    main()
