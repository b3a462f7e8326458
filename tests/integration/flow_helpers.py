"""Reading back what the hosts hold after the collection's playbooks ran on a sandbox, and
running the playbooks the way users do (``--check``, ``--diff``)."""

import contextlib
import json
import re
import subprocess
from pathlib import Path

from sandbox_ansible import BIN, FACTS, AnsibleProcess, PlaybookRun, ansible_env, host_facts

CREATE_VM, DELETE_VM = "playbooks/create_vm.yml", "playbooks/delete_vm.yml"
NOTHING_LEFT = {"records": [], "fixed_ips": [], "domains": [], "filters": [], "instance_dirs": [], "hosts_lines": []}
# the counters iptables-save prints change with every packet, a bridge's timers with every second
COUNTERS = re.compile(r"\[\d+:\d+\]")
TIMERS = re.compile(r"\b\w+_timer +[\d.]+")


@contextlib.contextmanager
def read_only(host, path):
    """``path`` on ``host`` read-only for the block (a read-only bind mount over itself); made first
    when no run has made it yet on this host (the tests of a module may run first or alone)."""
    host.run(["mkdir", "-p", path])
    host.run(["mount", "--bind", path, path])
    try:
        host.run(["mount", "-o", "remount,bind,ro", path])
        yield
    finally:
        host.run(["umount", path])


def instances_named(sandbox, prefix):
    """{display_name: record} of every instance on every host whose display name starts with ``prefix``."""
    found = {}
    for host in sandbox.hosts:
        for record in host_facts(host)["instances"].values():
            if record["display_name"].startswith(prefix):
                found[record["display_name"]] = record
    return found


def fixed_ip(record):
    return record["network_info"][0]["network"]["subnets"][0]["ips"][0]["address"]


def console_log(sandbox, record):
    return sandbox.host(record["host"]).instance_dir(record["name"]) / "console.log"


def host_leftovers(host):
    """What a host holds for instances: records, fixed IPs, domains, instance filters, dirs, hosts lines."""
    facts = host_facts(host)
    domains = host.run(["virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name"]).stdout.split()
    filters = [line.split()[1] for line in host.run(["virsh", "-q", "-c", "qemu:///system", "nwfilter-list"]).stdout
               .splitlines() if "nova-instance-" in line]
    instance_dirs = [d for d in host.run(["ls", "/var/lib/novalite/instances"], check=False).stdout.split()
                     if d.startswith("instance-")]
    hosts_lines = host.run(["sh", "-c", "cat /var/lib/novalite/networks/*.conf 2>/dev/null"], check=False).stdout
    return {"records": sorted(facts["instances"]), "fixed_ips": sorted(facts["fixed_ips"]), "domains": domains,
            "filters": filters, "instance_dirs": instance_dirs, "hosts_lines": hosts_lines.split()}


def host_state(host):
    """Everything the flow could change on a host, for "nothing changed" comparisons: the facts
    directory and document, every file under /var/lib/novalite (console logs, metadata access logs
    and dnsmasq lease files by name only: running guests write them), domains, nwfilters, firewall rules (without
    counters and timestamps), links, addresses and routes, and the processes in its namespaces."""
    def run(*argv):
        return host.run(list(argv), check=False).stdout

    files = run("find", "/var/lib/novalite", "/etc/ansible/facts.d", "-printf", "%p %y %m %s %T@\\n")
    return {
        "facts": run("cat", FACTS),
        "files": sorted(line if not re.search(r"(console\.log|\.leases|\.metadata\.log) ", line) else line.split()[0]
                        for line in files.splitlines()),
        "domains": run("virsh", "-q", "-c", "qemu:///system", "list", "--all"),
        "nwfilters": run("virsh", "-q", "-c", "qemu:///system", "nwfilter-list"),
        "iptables": [COUNTERS.sub("", line) for line in run("iptables-save").splitlines() if not line.startswith("#")],
        "ebtables": run("ebtables", "-L") + run("ebtables", "-t", "nat", "-L"),
        "links": TIMERS.sub("", run("ip", "-d", "link")),
        # IPv6 duplicate address detection of a new link ends on its own: "tentative" comes and goes
        "addresses": run("ip", "addr").replace(" tentative", ""),
        "routes": run("ip", "route"),
        "processes": namespace_processes(host),
    }


def namespace_processes(host):
    """The command lines of the processes in the host's network namespace (libvirtd, qemu, dnsmasq)."""
    pids = subprocess.run(["ip", "netns", "pids", host.netns], capture_output=True, text=True, check=False).stdout
    found = []
    for pid in pids.split():
        try:
            found.append(Path("/proc/%s/cmdline" % pid).read_bytes().replace(b"\0", b" ").decode().strip())
        except OSError:
            pass  # gone meanwhile
    return sorted(found)


def controller_state(sandbox):
    """Every file of the sandbox's controller state dir (locks and ledgers) with its content."""
    root = sandbox.state_dir / "controller"
    if not root.exists():
        return None
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


class FlowRun(PlaybookRun):
    """``ansible-playbook`` as PlaybookRun, with ``--diff`` too."""

    def __init__(self, sandbox, playbook, extra_vars, check=False, diff=False):  # pylint: disable=super-init-not-called
        self.playbook, self.extra_vars = playbook, extra_vars
        command = [str(BIN / "ansible-playbook"), "-i", str(sandbox.inventory_path), str(playbook),
                   "-e", json.dumps(extra_vars)]
        command += ["--check"] if check else []
        command += ["--diff"] if diff else []
        AnsibleProcess.__init__(self, command, ansible_env(sandbox))  # pylint: disable=non-parent-init-called


def run_flow(sandbox, playbook, extra_vars, check=False, diff=False, may_fail=False):
    """The finished FlowRun; AssertionError when it failed and ``may_fail`` is not set."""
    run = FlowRun(sandbox, playbook, extra_vars, check=check, diff=diff).finish()
    if run.rc != 0 and not may_fail:
        raise AssertionError("%s %s failed (rc=%d):\n%s" % (playbook, extra_vars, run.rc, run.output[-5000:]))
    return run


def warnings(run):
    """The [WARNING] lines of a run's output."""
    return [line for line in run.output.splitlines() if "[WARNING]" in line]
