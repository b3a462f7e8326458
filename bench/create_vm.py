#!/usr/bin/env python3
"""Wall time of the create-instance flow on a sandbox of two compute hosts.

First a warm-up: count 2 on the fresh hosts, which also fetches the image into each host's cache
and wires bridge, dnsmasq and firewall. Then for count 1 and 20: create_vm.yml with the guest boot excluded (wait_for=running: the play ends
when the domains run) and included (wait_for=lease: it ends when every guest has its DHCP lease),
the no-op re-run, and delete_vm.yml. Also counts module calls per run, since Ansible's cost is
about 0.2 s per module call and batching is what keeps count 20 close to count 1.

    .venv/bin/python bench/create_vm.py [--counts 1 20] [--json bench/results/create_vm.json]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sandbox"))

from sandbox import Sandbox  # noqa: E402

PLAYBOOK_BIN = Path(sys.executable).parent / "ansible-playbook"
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)", re.M)


def run_playbook(inventory, playbook, extra_vars, env):
    started = time.monotonic()
    done = subprocess.run([str(PLAYBOOK_BIN), "-i", str(inventory), str(REPO / "playbooks" / playbook),
                           "-e", json.dumps(extra_vars)], cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit("%s failed:\n%s" % (playbook, done.stdout[-4000:]))
    recap = {host: {"ok": int(ok), "changed": int(changed)} for host, ok, changed in RECAP.findall(done.stdout)}
    return {"seconds": round(seconds, 2), "changed": sum(r["changed"] for r in recap.values()),
            "tasks": sum(r["ok"] for r in recap.values())}


UNLIMITED = {"instances": -1, "cores": -1, "ram": -1}  # Nova's default of 10 instances is below 20


def warm_up(inventory, env):
    """The first create on fresh hosts also fetches the image and wires bridge and dnsmasq."""
    create = {"vm_name": "warmup", "count": 2, "novalite_quotas": UNLIMITED, "wait_for": "running"}
    result = run_playbook(inventory, "create_vm.yml", create, env)
    run_playbook(inventory, "delete_vm.yml", {"vm_name": "warmup"}, env)
    return {"create count 2, fresh hosts": result}


def measure(inventory, env, count):
    create = {"vm_name": "bench%d" % count, "count": count, "novalite_quotas": UNLIMITED}
    delete = {"vm_name": create["vm_name"]}
    results = {"create, boot excluded": run_playbook(inventory, "create_vm.yml", dict(create, wait_for="running"), env)}
    run_playbook(inventory, "delete_vm.yml", delete, env)
    results["create, boot included"] = run_playbook(inventory, "create_vm.yml", dict(create, wait_for="lease"), env)
    results["re-run (no-op)"] = run_playbook(inventory, "create_vm.yml", create, env)
    results["delete"] = run_playbook(inventory, "delete_vm.yml", delete, env)
    return results


def table(all_results):
    lines = ["%-8s %-30s %9s %8s %6s" % ("count", "run", "seconds", "changed", "tasks")]
    for count, results in all_results.items():
        for label, result in results.items():
            lines.append("%-8s %-30s %9.2f %8d %6d" % (count, label, result["seconds"], result["changed"],
                                                      result["tasks"]))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--json", default=str(REPO / "bench" / "results" / "create_vm.json"))
    args = parser.parse_args()
    box = Sandbox("bench", host_count=2)
    box.up()
    env = dict(os.environ, ANSIBLE_CACHE_PLUGIN_CONNECTION=str(box.state_dir / "fact-cache"))
    try:
        all_results = {"warm-up": warm_up(box.inventory_path, env)}
        all_results.update((count, measure(box.inventory_path, env, count)) for count in args.counts)
    finally:
        box.down()
    print(table(all_results))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(all_results, indent=2) + "\n")


if __name__ == "__main__":
    main()
