#!/usr/bin/env python3
"""Wall time of each lifecycle action on a sandbox of two compute hosts, one guest on each.

create_vm.yml makes the two guests (the play ends when both have their leases), then each action
runs on both through its playbook (server_action.yml, snapshot_vm.yml, rebuild_vm.yml,
console_vm.yml), with the no-op re-run of the state-like ones; actions that boot a guest end when
it has its lease again. The snapshot goes into a catalog of its own (a copy of the test image's),
a new instance is created from it, and one guest is rebuilt from it. Nothing here is asserted;
the load average is in the header, as on a shared machine it is most of the noise.

    .venv/bin/python bench/lifecycle.py [--json bench/results/lifecycle.json]
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sandbox"))
sys.path.insert(0, str(REPO / "bench"))

from create_vm import run_playbook  # noqa: E402
from sandbox import IMAGE_DIR, Sandbox  # noqa: E402

ACTIONS = [  # (label, playbook, extra vars)
    ("stop", "server_action.yml", {"vm_action": "stop"}),
    ("stop, re-run (no-op)", "server_action.yml", {"vm_action": "stop"}),
    ("start (lease)", "server_action.yml", {"vm_action": "start"}),
    ("start, re-run (no-op)", "server_action.yml", {"vm_action": "start"}),
    ("pause", "server_action.yml", {"vm_action": "pause"}),
    ("pause, re-run (no-op)", "server_action.yml", {"vm_action": "pause"}),
    ("unpause", "server_action.yml", {"vm_action": "unpause"}),
    ("suspend", "server_action.yml", {"vm_action": "suspend"}),
    ("suspend, re-run (no-op)", "server_action.yml", {"vm_action": "suspend"}),
    ("resume", "server_action.yml", {"vm_action": "resume"}),
    ("reboot soft (lease)", "server_action.yml", {"vm_action": "reboot"}),
    ("reboot hard (lease)", "server_action.yml", {"vm_action": "reboot", "reboot_type": "hard"}),
    ("snapshot (1 running guest)", "snapshot_vm.yml", {"vm_name": "bench-1", "image_name": "bench-snap"}),
    ("snapshot, re-run (no-op)", "snapshot_vm.yml", {"vm_name": "bench-1", "image_name": "bench-snap"}),
    ("create 1 from the snapshot (lease)", "create_vm.yml", {"vm_name": "fromsnap", "image": "bench-snap"}),
    ("rebuild, same image (lease)", "rebuild_vm.yml", {}),
    ("rebuild 1 from the snapshot (lease)", "rebuild_vm.yml", {"vm_name": "bench-2", "image": "bench-snap"}),
    ("console", "console_vm.yml", {"lines": 20}),
]


def private_catalog(directory):
    path = Path(directory) / "catalog.yml"
    path.write_text(yaml.safe_dump(yaml.safe_load((IMAGE_DIR / "catalog.yml").read_text())))
    return {"novalite_image_catalog": str(path), "novalite_image_dirs": [str(IMAGE_DIR)]}


def measure(inventory, env, catalog):
    results = {"create 2 (lease)": run_playbook(inventory, "create_vm.yml", dict(catalog, vm_name="bench", count=2), env)}
    for label, playbook, extra in ACTIONS:
        results[label] = run_playbook(inventory, playbook, dict(catalog, **dict({"vm_name": "bench"}, **extra)), env)
    for name in ("fromsnap", "bench"):
        results["delete %s" % name] = run_playbook(inventory, "delete_vm.yml", {"vm_name": name}, env)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=str(REPO / "bench" / "results" / "lifecycle.json"))
    args = parser.parse_args()
    load = os.getloadavg()
    box = Sandbox("lifebench%d" % os.getpid(), host_count=2)
    box.up()
    env = dict(os.environ, ANSIBLE_CACHE_PLUGIN_CONNECTION=str(box.state_dir / "fact-cache"))
    try:
        with tempfile.TemporaryDirectory(prefix="nl-lifecycle-") as directory:
            os.chmod(directory, 0o755)
            results = measure(box.inventory_path, env, private_catalog(directory))
    finally:
        box.down()
    print("load average at the start: %.2f %.2f %.2f" % load)
    print("%-40s %9s %8s" % ("run (2 guests, one per host, unless said)", "seconds", "changed"))
    for label, result in results.items():
        print("%-40s %9.2f %8d" % (label, result["seconds"], result["changed"]))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"load_average": load, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
