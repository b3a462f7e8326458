#!/usr/bin/env python3
"""Ours and the peer side by side, over SSH as users run them (issue 13's figures and targets).

The peer (bench/peer/) does the job of playbooks/create_vm.yml as an Ansible user writes it
today with community.libvirt and builtins. Each side gets a fresh sandbox of two compute hosts
with SSH access (``Sandbox(name, ssh=True)``), reached through its SSH inventory, with the
repository's ansible.cfg (pipelining on) for both. Per side:

  ansible compute -m ping           first contact, then 3 times per repetition ("ping": median)
  warm-up                           create count 2 and delete, not measured: the first create
                                    on fresh hosts also caches the image (both sides) and wires
                                    the network (ours)
  create N, re-run N, delete N      for N in --counts (2 20): domains running at the end, guest
                                    boot excluded (ours: wait_for=running, unlimited quotas)
  prepare_host.yml                  ours only: once unmeasured, then measured with nothing to do

The sides take turns by cycle (ours' create/re-run/delete of count 2, then the peer's, then
count 20 ...), so that only one side's guests exist while a side is measured and both see the
same drift of the machine's load; with --repeat the side that goes first alternates and each
figure is the median. Not timed, between runs: after every create the bench waits until every
guest has booted (its console says so), so that no re-run or delete shares the CPU with booting
TCG guests (a create does: guests it starts early boot while it runs; each run reports the CPU
seconds its side's guests used); after every create and delete of the peer it checks the hosts from the machine
(dnsmasq hosts lines, running domains, the guests' leases on their consoles; after delete: no
domain, disk, console log or hosts line left), and once, after its largest create,
bench/peer/verify.yml waits for every lease in dnsmasq's lease file.

By default every run starts cold, as a user's run does: the SSH control masters of the run
before are stopped first (--connections warm keeps them, so only the first run connects).
Each run's remote module calls per play (and each task's seconds) come from the callback
bench/callback_plugins/module_calls.py; a sampler adds the CPU seconds the side's guests (TCG)
used while the run ran. community.libvirt comes from the PyPI ``ansible`` package, installed with
``pip install --no-deps --target bench/.state/ansible-package`` when missing (never into the
venv) and put on ANSIBLE_COLLECTIONS_PATH for the peer only.

    .venv/bin/python bench/side_by_side.py [--counts 2 20] [--repeat 1] [--connections cold|warm]
        [--sides both|ours|peer] [--json bench/results/side_by_side.json]

--sides ours (or peer) measures one side alone, on one sandbox: its figures, remote calls per play
and the targets that need only its own figures (the ratios to the other side stay empty).

Prints one table (each figure, ours/peer, the targets) with the machine in the header, writes
JSON to --json and each run's output next to it (side_by_side-logs/). Needs root.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "sandbox"))

import ssh_access  # noqa: E402
from ansible.release import __version__ as ansible_core_version  # noqa: E402
from sandbox import Sandbox, stop_pids  # noqa: E402

BIN = Path(sys.executable).parent
ANSIBLE_CFG = REPO / "ansible.cfg"
PEER = BENCH / "peer"
CALLBACKS = BENCH / "callback_plugins"
STATE = BENCH / ".state"  # git-ignored (bench/.gitignore)
PEER_COLLECTIONS = STATE / "ansible-package"
PEER_REQUIREMENT = "ansible>=12,<13"  # the community package that goes with ansible-core 2.19
LIBVIRT_MANIFEST = PEER_COLLECTIONS / "ansible_collections" / "community" / "libvirt" / "MANIFEST.json"

# The extra var(s) that carry our instance name (``name`` is reserved in Ansible, so create_vm.yml
# reads ``vm_name``): --name-var says which to pass (each one given gets the name).
OURS_NAME_VARS = ("vm_name",)
UNLIMITED = {"instances": -1, "cores": -1, "ram": -1}  # Nova's default of 10 instances is below 20
RUN_TIMEOUT = 3600
SETTLE_TIMEOUT = 900
GUEST_READY = "novalite-guest ready"  # what the test guest prints once it has booted (guest_image/README.md)
WARM_UP_COUNT = 2
PINGS = 3  # per side and repetition: ping is the yardstick of two targets, and it varies by a second

# the targets of issue 13: (label, figure, side of the reference figure, reference figure, limit)
TARGETS = (
    ("create 20 <= 2 x create 2", "create 20", "ours", "create 2", 2.0),
    ("create 20 <= 0.1 x peer", "create 20", "peer", "create 20", 0.1),
    ("no-op 20 <= 3 x ping", "re-run 20", "ours", "ping", 3.0),
    ("no-op 20 <= 0.05 x peer", "re-run 20", "peer", "re-run 20", 0.05),
    ("delete 20 <= 2 x delete 2", "delete 20", "ours", "delete 2", 2.0),
    ("delete 20 <= 0.5 x peer", "delete 20", "peer", "delete 20", 0.5),
    ("prepare_host no-op <= 3 x ping", "prepare_host no-op", "ours", "ping", 3.0),
)


class RunFailed(RuntimeError):
    """An ansible command of the bench failed; the message has the end of its output."""


class CheckFailed(AssertionError):
    """What a side was to leave on its hosts is not there (or something is left after delete)."""


# --- the peer's collection ---------------------------------------------------------------------

def ensure_peer_collection():
    """community.libvirt from the ``ansible`` package in bench/.state (installed when missing)."""
    if not LIBVIRT_MANIFEST.exists():
        STATE.mkdir(parents=True, exist_ok=True)
        staging = STATE / "ansible-package.partial"
        subprocess.run(["rm", "-rf", str(staging)], check=True)
        print("installing %s into %s (pip --no-deps --target; the venv is not touched)"
              % (PEER_REQUIREMENT, PEER_COLLECTIONS), file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--target", str(staging), PEER_REQUIREMENT], check=True, stdout=sys.stderr)
        staging.rename(PEER_COLLECTIONS)
    return peer_versions()


def peer_versions():
    libvirt = json.loads(LIBVIRT_MANIFEST.read_text())["collection_info"]["version"]
    package = next((p.name[:-len(".dist-info")].split("-", 1)[1]
                    for p in PEER_COLLECTIONS.glob("ansible-*.dist-info")), "?")
    return {"ansible": package, "community.libvirt": libvirt}


# --- the two sides -----------------------------------------------------------------------------

def peer_vms(name, count, hosts):
    """{host: [(vm name, mac, ip)]}: what bench/peer/templates/vms.yml.j2 hands out, worked out
    independently so that the checks do not trust the peer's own arithmetic."""
    placed = {host: [] for host in hosts}
    for i in range(1, count + 1):
        placed[hosts[(i - 1) % len(hosts)]].append(
            ("%s-%d" % (name, i), "52:54:00:4e:%02x:%02x" % (i // 256, i % 256),
             "10.1.%d.%d" % (1 + (i - 1) // 200, 10 + (i - 1) % 200)))
    return placed


class Side:
    """One side: its sandbox, environment, playbooks and what its runs measured."""

    def __init__(self, label, box, log_dir, connections, name_vars):
        self.label = label
        self.box = box
        self.log_dir = log_dir
        self.connections = connections
        self.name_vars = name_vars
        self.runs = []
        self.checks = []
        self.env = dict(os.environ, ANSIBLE_CONFIG=str(ANSIBLE_CFG), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                        ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS), ANSIBLE_CALLBACKS_ENABLED="module_calls",
                        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                        ANSIBLE_CACHE_PLUGIN_CONNECTION=str(box.state_dir / "fact-cache"))
        if label == "peer":
            self.env["ANSIBLE_COLLECTIONS_PATH"] = str(PEER_COLLECTIONS)

    # what each side runs
    def create_vars(self, name, count):
        if self.label == "peer":
            return {"vm_name": name, "count": count}
        return dict({var: name for var in self.name_vars}, count=count, novalite_quotas=UNLIMITED,
                    wait_for="running")

    def delete_vars(self, name, count):
        if self.label == "peer":
            return {"vm_name": name, "count": count}
        return {var: name for var in self.name_vars}

    def playbook(self, which):
        return (PEER if self.label == "peer" else REPO / "playbooks") / which

    # running ansible
    def run(self, figure, command, measured=True):
        if self.connections == "cold":
            stop_pids(ssh_access.control_master_pids(self.box.control_path_dir))
        calls_file = self.box.state_dir / "bench-calls.json"
        calls_file.unlink(missing_ok=True)
        load_before = os.getloadavg()
        with GuestCpu(self.box) as guests:
            started = time.monotonic()
            done = subprocess.run(command, cwd=REPO, env=dict(self.env, NOVALITE_BENCH_CALLS=str(calls_file)),
                                  capture_output=True, text=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
            seconds = time.monotonic() - started
        log = self.log_dir / ("%02d-%s-%s.log" % (len(self.runs) + 1, self.label, re.sub(r"[^a-z0-9]+", "_", figure)))
        log.write_text("$ %s\n%s\n--- stderr\n%s" % (" ".join(command), done.stdout, done.stderr))
        if done.returncode != 0:
            raise RunFailed("%s: %s failed (rc=%d), see %s:\n%s" % (self.label, figure, done.returncode, log,
                                                                    done.stdout[-3000:] + done.stderr[-2000:]))
        calls = json.loads(calls_file.read_text()) if calls_file.exists() else {"plays": [], "remote": 0}
        run = {"figure": figure, "measured": measured, "seconds": round(seconds, 2),
               "remote_calls": calls["remote"], "changed": changed_count(calls),
               "plays": calls["plays"],
               "guest_cpu_seconds": guests.seconds,
               "load_before": [round(x, 2) for x in load_before],
               "load_after": [round(x, 2) for x in os.getloadavg()]}
        self.runs.append(run)
        print("  %-5s %-22s %8.2f s  %4d remote calls  changed %-4d guests %6.1f CPU-s  load %.2f"
              % (self.label, figure, run["seconds"], run["remote_calls"], run["changed"], run["guest_cpu_seconds"],
                 load_before[0]), file=sys.stderr)
        return run

    def ping(self, figure="ping"):
        return self.run(figure, [str(BIN / "ansible"), "compute", "-i", str(self.box.ssh_inventory_path),
                                 "-m", "ansible.builtin.ping"])

    def play(self, figure, playbook, extra_vars, measured=True):
        return self.run(figure, [str(BIN / "ansible-playbook"), "-i", str(self.box.ssh_inventory_path),
                                 str(self.playbook(playbook)), "-e", json.dumps(extra_vars)], measured)

    def create(self, figure, name, count, measured=True):
        run = self.play(figure, "create_vm.yml", self.create_vars(name, count), measured)
        run["settle_seconds"] = self.settle()
        if self.label == "peer":
            self.check_peer_created(name, count)
        return run

    def delete(self, figure, name, count, measured=True):
        run = self.play(figure, "delete_vm.yml", self.delete_vars(name, count), measured)
        self.check_nothing_left(name, count)
        return run

    # between runs, never timed
    def console_logs(self, host):
        if self.label == "peer":
            return sorted((host.state_dir / "lib" / "libvirt" / "images").glob("*-console.log"))
        return sorted((host.state_dir / "lib" / "novalite" / "instances").glob("instance-*/console.log"))

    def settle(self, timeout=SETTLE_TIMEOUT):
        """Seconds until every guest of the side has booted (or None after ``timeout``)."""
        started = time.monotonic()
        while True:
            logs = [log for host in self.box.hosts for log in self.console_logs(host)]
            if all(GUEST_READY in read_quietly(log) for log in logs):
                return round(time.monotonic() - started, 1)
            if time.monotonic() - started > timeout:
                print("  %s: guests still booting after %ds; going on" % (self.label, timeout), file=sys.stderr)
                return None
            time.sleep(2)

    def running_domains(self, host, state="--state-running"):
        listed = host.run(["virsh", "-q", "-c", "qemu:///system", "list", "--name", state]).stdout
        return {line.strip() for line in listed.splitlines() if line.strip()}

    def check_peer_created(self, name, count):
        """Every VM has its hosts line, runs, and its guest got the address of its line."""
        for host in self.box.hosts:
            vms = peer_vms(name, count, [h.name for h in self.box.hosts])[host.name]
            lines = set(read_quietly(host.state_dir / "lib" / "libvirt" / "peer-dnsmasq" / "hosts").splitlines())
            running = self.running_domains(host)
            images = host.state_dir / "lib" / "libvirt" / "images"
            for vm, mac, ip in vms:
                console = read_quietly(images / ("%s-console.log" % vm))
                self.expect("%s %s hosts line" % (host.name, vm), "%s,%s,%s" % (mac, vm, ip) in lines)
                self.expect("%s %s running" % (host.name, vm), vm in running)
                self.expect("%s %s lease on its console" % (host.name, vm), "lease %s %s" % (ip, mac) in console)

    def check_nothing_left(self, name, count):
        for host in self.box.hosts:
            domains = self.running_domains(host, "--all")
            if self.label == "peer":
                vms = peer_vms(name, count, [h.name for h in self.box.hosts])[host.name]
                lines = read_quietly(host.state_dir / "lib" / "libvirt" / "peer-dnsmasq" / "hosts").splitlines()
                images = host.state_dir / "lib" / "libvirt" / "images"
                for vm, mac, _ip in vms:
                    self.expect("%s %s domain gone" % (host.name, vm), vm not in domains)
                    self.expect("%s %s disk gone" % (host.name, vm), not (images / (vm + ".qcow2")).exists())
                    self.expect("%s %s console log gone" % (host.name, vm),
                                not (images / (vm + "-console.log")).exists())
                    self.expect("%s %s hosts line gone" % (host.name, vm),
                                not any(line.startswith(mac + ",") or (",%s," % vm) in line for line in lines))
            else:
                self.expect("%s no domain left" % host.name, not domains)

    def expect(self, what, ok):
        self.checks.append({"check": what, "ok": bool(ok)})
        if not ok:
            raise CheckFailed("%s: check failed: %s" % (self.label, what))

    def verify_leases(self, name, count):
        """bench/peer/verify.yml: hosts lines, running domains, and a wait for every lease."""
        run = self.play("verify leases %d" % count, "verify.yml", {"vm_name": name, "count": count}, measured=False)
        self.checks.append({"check": "verify.yml count %d (leases in dnsmasq's lease file)" % count, "ok": True})
        return run

    def figures(self):
        """{figure: median seconds and the rest} over the measured runs."""
        by_figure = {}
        for run in self.runs:
            if run["measured"]:
                by_figure.setdefault(run["figure"], []).append(run)
        return {figure: {"seconds": round(statistics.median(r["seconds"] for r in runs), 2),
                         "min": min(r["seconds"] for r in runs), "max": max(r["seconds"] for r in runs),
                         "remote_calls": runs[-1]["remote_calls"], "changed": runs[-1]["changed"],
                         "remote_calls_per_play": [p["remote"] for p in runs[-1]["plays"]],
                         "remote_calls_by_play": [[p["name"], p["remote"]] for p in runs[-1]["plays"]],
                         "guest_cpu_seconds": runs[-1]["guest_cpu_seconds"],
                         "samples": len(runs)}
                for figure, runs in by_figure.items()}


class GuestCpu:
    """CPU seconds the side's guests (their qemu processes in the hosts' namespaces) use while a run
    runs, sampled every second: a guest that starts counts from zero, one that goes away counts
    up to its last sample. TCG guests that boot, or merely idle, take CPU from the run."""

    def __init__(self, box, interval=1.0):
        self.namespaces = {os.stat("/run/netns/%s" % host.netns).st_ino for host in box.hosts}
        self.interval = interval
        self.first, self.last = {}, {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _ticks(self):
        found = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                if not Path(entry.path, "comm").read_text().startswith("qemu-system"):
                    continue
                if os.stat(os.path.join(entry.path, "ns", "net")).st_ino not in self.namespaces:
                    continue
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            found[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime, stime
        return found

    def _poll(self):
        while not self.stopped.wait(self.interval):
            self.last.update(self._ticks())

    def __enter__(self):
        self.first = self._ticks()
        self.last = dict(self.first)
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join()
        self.last.update(self._ticks())

    @property
    def seconds(self):
        ticks = sum(last - self.first.get(pid, 0) for pid, last in self.last.items())
        return round(ticks / os.sysconf("SC_CLK_TCK"), 1)


def changed_count(calls):
    return sum(counts.get("changed", 0) for play in calls["plays"] for modules in play["hosts"].values()
               for counts in modules.values())


def read_quietly(path):
    try:
        return Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return ""


# --- the sequence ------------------------------------------------------------------------------

def cycle(side, count, repetition, verify):
    name = "bench%dr%d" % (count, repetition)
    side.create("create %d" % count, name, count)
    if verify and side.label == "peer":
        side.verify_leases(name, count)
    side.play("re-run %d" % count, "create_vm.yml", side.create_vars(name, count))
    side.delete("delete %d" % count, name, count)


def run_all(sides, counts, repeat):
    for side in sides:
        side.ping("ping, first contact")
    for side in sides:
        side.create("warm-up create %d" % WARM_UP_COUNT, "warmup", WARM_UP_COUNT, measured=False)
        side.delete("warm-up delete %d" % WARM_UP_COUNT, "warmup", WARM_UP_COUNT, measured=False)
    for repetition in range(1, repeat + 1):
        order = sides if repetition % 2 else sides[::-1]
        for _ in range(PINGS):
            for side in order:
                side.ping()
        for count in counts:
            for side in order:
                cycle(side, count, repetition, verify=repetition == 1 and count == max(counts))
        ours = next((s for s in sides if s.label == "ours"), None)
        if ours is None:
            continue
        if repetition == 1:
            ours.play("prepare_host, first", "prepare_host.yml", {}, measured=False)
        ours.play("prepare_host no-op", "prepare_host.yml", {})


# --- the report --------------------------------------------------------------------------------

def machine():
    model = next((line.split(":", 1)[1].strip() for line in read_quietly("/proc/cpuinfo").splitlines()
                  if line.startswith("model name")), platform.processor() or "?")
    return {"cores": os.cpu_count(), "cpu": model, "kernel": "%s %s" % (platform.system(), platform.release()),
            "ansible_core": ansible_core_version, "python": platform.python_version()}


def target_rows(figures):
    rows = []
    for label, figure, ref_side, ref_figure, limit in TARGETS:
        value = figures.get("ours", {}).get(figure, {}).get("seconds")
        reference = figures.get(ref_side, {}).get(ref_figure, {}).get("seconds")
        ratio = round(value / reference, 3) if value is not None and reference else None
        rows.append({"target": label, "figure": figure, "reference": "%s %s" % (ref_side, ref_figure),
                     "ratio": ratio, "limit": limit, "met": ratio is not None and ratio <= limit})
    return rows


def table(result):
    figures, info = result["figures"], result["machine"]
    peer = result["peer"]
    sides = {"ours": "ours (novalite.compute)",
             "peer": "the peer (community.libvirt %s from ansible %s)" % (peer.get("community.libvirt"),
                                                                          peer.get("ansible"))}
    lines = [
        "%s, two sandbox hosts over SSH" % " and ".join(sides[side] for side in result["sides"]),
        "machine: %d cores, %s, %s, ansible-core %s, Python %s"
        % (info["cores"], info["cpu"], info["kernel"], info["ansible_core"], info["python"]),
        "load average at start %s, at end %s; connections %s; %d repetition(s), median seconds"
        % (" ".join("%.2f" % x for x in result["load_start"]), " ".join("%.2f" % x for x in result["load_end"]),
           result["connections"], result["repeat"]),
        "",
        "%-20s %8s %6s %8s %6s %9s   %-32s %7s %5s" % ("figure", "ours s", "calls", "peer s", "calls", "ours/peer",
                                                      "target", "ratio", "met"),
    ]
    by_figure = {}
    for row in result["targets"]:
        by_figure.setdefault(row["figure"], []).append(row)
    for figure in result["figure_order"]:
        ours, theirs = figures.get("ours", {}).get(figure), figures.get("peer", {}).get(figure)
        cells = ["%-20s" % figure]
        for side in (ours, theirs):
            cells.append("%8.2f %6d" % (side["seconds"], side["remote_calls"]) if side else "%8s %6s" % ("-", "-"))
        cells.append("%9.2f" % (ours["seconds"] / theirs["seconds"]) if ours and theirs else "%9s" % "-")
        targets = by_figure.get(figure) or [None]
        for i, row in enumerate(targets):
            head = " ".join(cells) if i == 0 else " " * len(" ".join(cells))
            if row is None:
                lines.append(head)
            else:
                lines.append("%s   %-32s %7s %5s" % (head, row["target"],
                                                      "-" if row["ratio"] is None else "%.2f" % row["ratio"],
                                                      "yes" if row["met"] else "no"))
    lines += ["", "calls: remote module calls (task results on the hosts, loop items one each), per play; and the CPU",
              "seconds the side's TCG guests used while the run ran (booting ones in a create, idle ones after):"]
    for side in result["sides"]:
        for figure in result["figure_order"]:
            entry = figures[side].get(figure)
            if entry:
                lines.append("  %-5s %-20s %-22s guests %6.1f CPU-s" % (
                    side, figure, " + ".join(map(str, entry["remote_calls_per_play"])), entry["guest_cpu_seconds"]))
    lines += ["", "remote calls per play (play: calls), of each side's last measured run of the figure:"]
    for side in result["sides"]:
        for figure in result["figure_order"]:
            entry = figures[side].get(figure)
            if entry and entry["remote_calls"]:
                lines.append("  %-5s %-20s %s" % (side, figure, "; ".join(
                    "%s: %d" % (name or "(ad hoc)", calls) for name, calls in entry["remote_calls_by_play"])))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[2, 20])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--connections", choices=("cold", "warm"), default="cold")
    parser.add_argument("--sides", choices=("both", "ours", "peer"), default="both",
                        help="measure both sides (default) or one alone")
    parser.add_argument("--name-var", action="append", dest="name_vars",
                        help="extra var that carries our instance name (repeatable; default: %s)"
                        % ", ".join(OURS_NAME_VARS))
    parser.add_argument("--json", default=str(BENCH / "results" / "side_by_side.json"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the sandbox needs root")
    out = Path(args.json)
    log_dir = out.parent / "side_by_side-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    labels = ("ours", "peer") if args.sides == "both" else (args.sides,)
    versions = ensure_peer_collection() if "peer" in labels else {}
    load_start = os.getloadavg()
    boxes = [Sandbox("sb%s%d" % (label[0], os.getpid()), host_count=2, ssh=True) for label in labels]
    try:
        for i, box in enumerate(boxes):
            box.up(build_image=i == 0)
        sides = [Side(label, box, log_dir, args.connections, tuple(args.name_vars or OURS_NAME_VARS))
                 for label, box in zip(labels, boxes)]
        run_all(sides, args.counts, args.repeat)
    finally:
        for box in boxes:
            box.down()
    figures = {side.label: side.figures() for side in sides}
    order = ["ping, first contact", "ping"] + ["%s %d" % (what, count) for count in args.counts
                        for what in ("create", "re-run", "delete")] + ["prepare_host no-op"]
    result = {"machine": machine(), "peer": versions, "sides": list(labels), "connections": args.connections,
              "repeat": args.repeat,
              "counts": args.counts, "name_vars": list(sides[0].name_vars),
              "load_start": [round(x, 2) for x in load_start], "load_end": [round(x, 2) for x in os.getloadavg()],
              "figure_order": order, "figures": figures, "targets": target_rows(figures),
              "runs": {side.label: side.runs for side in sides},
              "checks": {side.label: side.checks for side in sides}}
    print(table(result))
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
