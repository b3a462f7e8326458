#!/usr/bin/env python3
"""What the network step costs each host: module calls and seconds of create and delete, for a checkout.

Runs on a fresh sandbox of two compute hosts, from the checkout given (default this one; give an
export of an older commit to compare, e.g. ``git archive <commit> | tar -x -C DIR``): a warm-up
(create count 2 and delete: the image is cached and the network wired), then create count 2 (one
instance per host, wait_for=running), the no-op re-run, delete, and create count 1 (one host in
the run, the other only told the names) and its delete. Per run it reports the remote module calls
per host and the seconds of the network tasks (``nova_network``'s and the controller's
``ipam_allocate``), from bench/callback_plugins/module_calls.py.

    .venv/bin/python bench/network_cost.py [--checkout DIR] [--json bench/results/network_cost.json]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sandbox"))

from sandbox import Sandbox  # noqa: E402

sys.path.insert(0, str(REPO / "bench" / "callback_plugins"))
from module_calls import CONTROLLER_ACTIONS  # noqa: E402

PLAYBOOK_BIN = Path(sys.executable).parent / "ansible-playbook"
# the collection's action plugins that decide on the controller (delegated to localhost)
CONTROLLER_MODULES = {"novalite.compute." + name for name in (
    "instance_request", "schedule_instances", "ipam_allocate", "floating_ip_request")}
NETWORK_TASKS = ("Wire the network", "Allocate fixed IPs", "Tell the network's other hosts",
                 "Release the instances' fixed IPs", "Tell the names to the networks")


def run(checkout, sandbox, playbook, extra_vars):
    with tempfile.TemporaryDirectory(prefix="nl-bench-") as workdir:
        calls = Path(workdir) / "calls.json"
        env = dict(os.environ, ANSIBLE_CONFIG=str(checkout / "ansible.cfg"),
                   ANSIBLE_CACHE_PLUGIN_CONNECTION=str(sandbox.state_dir / "fact-cache"),
                   ANSIBLE_CALLBACK_PLUGINS=str(REPO / "bench" / "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="module_calls", NOVALITE_BENCH_CALLS=str(calls))
        started = time.monotonic()
        done = subprocess.run([str(PLAYBOOK_BIN), "-i", str(sandbox.inventory_path),
                               str(checkout / "playbooks" / playbook), "-e", json.dumps(extra_vars)],
                              cwd=checkout, env=env, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit("%s failed:\n%s" % (playbook, done.stdout[-4000:]))
        return summary(json.loads(calls.read_text()), seconds)


def summary(calls, seconds):
    per_host, network = {}, {}
    for play in calls["plays"]:
        for host, modules in play["hosts"].items():
            if host == "localhost":
                continue
            entry = per_host.setdefault(host, {})
            for module, outcomes in modules.items():
                done = outcomes.get("ok", 0) + outcomes.get("failed", 0)  # "changed" counts some of "ok" again
                if done and module not in CONTROLLER_ACTIONS and module not in CONTROLLER_MODULES:
                    entry[module] = entry.get(module, 0) + done
        for name, task_seconds in play["tasks"]:
            if any(task in name for task in NETWORK_TASKS):
                network[name] = round(network.get(name, 0) + task_seconds, 2)
    return {"seconds": round(seconds, 1), "remote_calls": {h: sum(m.values()) for h, m in sorted(per_host.items())},
            "modules": per_host, "network_task_seconds": network}


def measure(checkout):
    sandbox = Sandbox("nc%d" % os.getpid(), host_count=2).up(build_image=False)
    try:
        results = {}
        run(checkout, sandbox, "create_vm.yml", {"vm_name": "warm", "count": 2, "wait_for": "running"})
        run(checkout, sandbox, "delete_vm.yml", {"vm_name": "warm"})
        create = {"vm_name": "cost", "count": 2, "wait_for": "running"}
        results["create count 2"] = run(checkout, sandbox, "create_vm.yml", create)
        results["re-run count 2"] = run(checkout, sandbox, "create_vm.yml", create)
        results["delete count 2"] = run(checkout, sandbox, "delete_vm.yml", {"vm_name": "cost"})
        results["create count 1"] = run(checkout, sandbox, "create_vm.yml", dict(create, count=1, vm_name="one"))
        results["delete count 1"] = run(checkout, sandbox, "delete_vm.yml", {"vm_name": "one"})
        return results
    finally:
        sandbox.down()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", type=Path, default=REPO)
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "network_cost.json")
    args = parser.parse_args()
    results = {"checkout": str(args.checkout), "load": os.getloadavg()[0], "runs": measure(args.checkout.resolve())}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")
    for name, result in results["runs"].items():
        print("%-16s %6.1f s  calls %s  network tasks %s" % (name, result["seconds"], result["remote_calls"],
                                                          result["network_task_seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
