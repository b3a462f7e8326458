"""What the lifecycle tests read back from the sandbox: records against libvirt, the guest answering at
its address, its console, and the wall time of each action."""

import json
import re
import time
from pathlib import Path

import yaml

from flow_helpers import console_log, fixed_ip, run_flow
from sandbox_ansible import REPO_ROOT, host_facts

SERVER_ACTION, REBUILD_VM = "playbooks/server_action.yml", "playbooks/rebuild_vm.yml"
SNAPSHOT_VM, CONSOLE_VM = "playbooks/snapshot_vm.yml", "playbooks/console_vm.yml"
# What libvirt shows for each vm_state once an action is done: (virsh domstate, managed save, power_state)
LIBVIRT_FOR = {"active": ("running", False, 1), "stopped": ("shut off", False, 4), "paused": ("paused", False, 3),
               "suspended": ("shut off", True, 4)}
TIMINGS = {}
RESULTS = REPO_ROOT / "bench" / "results" / "lifecycle-timings.json"


def private_catalog(directory, image_dir):
    """A copy of the test image catalog in ``directory`` (snapshots are written beside it), whose images
    stay where the shared build put them: the extra vars that point the playbooks at it."""
    records = yaml.safe_load((Path(image_dir) / "catalog.yml").read_text())
    path = Path(directory) / "catalog.yml"
    path.write_text(yaml.safe_dump(records))
    return {"novalite_image_catalog": str(path), "novalite_image_dirs": [str(image_dir)]}


def timed(box, label, playbook, extra_vars, **kwargs):
    """run_flow, with its wall time kept under ``label`` (the first run of each label is the one reported)."""
    started = time.monotonic()
    run = run_flow(box, playbook, extra_vars, **kwargs)
    TIMINGS.setdefault(label, round(time.monotonic() - started, 1))
    return run


def write_timings():
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(TIMINGS, indent=2, sort_keys=True) + "\n")
    print("\nwall time of each action on the sandbox (s):\n" + "\n".join(
        "  %-40s %6.1f" % (label, seconds) for label, seconds in sorted(TIMINGS.items())))


def records(box, uuids):
    """{uuid: record} as the hosts recorded them now."""
    found = {}
    for host in box.hosts:
        for uuid, record in host_facts(host)["instances"].items():
            if uuid in uuids:
                found[uuid] = record
    return found


def libvirt_view(box, record):
    """(virsh domstate, whether a managed save image exists) of the instance's domain on its host."""
    host = box.host(record["host"])
    state = host.run(["virsh", "-c", "qemu:///system", "domstate", record["name"]]).stdout.strip()
    info = host.run(["virsh", "-c", "qemu:///system", "dominfo", record["name"]]).stdout
    return state, bool(re.search(r"^Managed save:\s+yes", info, re.MULTILINE))


def assert_records_match_libvirt(box, uuids, vm_state=None):
    """Every instance's record (vm_state, power_state, no task) says what libvirt shows."""
    for uuid, record in records(box, uuids).items():
        if vm_state is not None:
            assert record["vm_state"] == vm_state, record
        state, saved, power_state = LIBVIRT_FOR[record["vm_state"]]
        assert libvirt_view(box, record) == (state, saved), record["display_name"]
        assert (record["power_state"], record["task_state"]) == (power_state, None), record


def answers(box, record, timeout=240):
    """The guest answers ping and its HTTP on port 80 at its fixed IP (waiting for it to boot)."""
    host, address = box.host(record["host"]), fixed_ip(record)
    deadline, page = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        pinged = host.run(["ping", "-c", "1", "-W", "2", address], check=False).returncode == 0
        page = host.run(["curl", "-s", "--max-time", "3", "http://%s/" % address], check=False).stdout
        if pinged and page.startswith("novalite-guest ") and address in page:
            return page
        time.sleep(2)
    raise AssertionError("%s does not answer at %s within %ss (page %r)"
                         % (record["display_name"], address, timeout, page))


def pings(box, record):
    return box.host(record["host"]).run(["ping", "-c", "2", "-W", "2", fixed_ip(record)], check=False).returncode == 0


def console_text(box, record):
    path = console_log(box, record)
    return path.read_text(errors="replace").replace("\r", "") if path.exists() else ""


def wait_for_line(box, record, pattern, timeout=240):
    """The first line of the console matching ``pattern`` (the log starts anew with each QEMU process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, console_text(box, record), re.MULTILINE)
        if match:
            return match
        time.sleep(1)
    raise AssertionError("no %r on the console of %s within %ss; it ends with:\n%s"
                         % (pattern, record["display_name"], timeout, console_text(box, record)[-2000:]))
