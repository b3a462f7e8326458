"""Running the collection's playbooks against a sandbox and reading back what the hosts hold."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class PlaybookRun:
    def __init__(self, completed):
        self.rc = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.recap = {host: {"ok": int(ok), "changed": int(changed), "failed": int(failed)}
                      for host, ok, changed, _unreachable, failed in RECAP.findall(completed.stdout)}

    @property
    def changed(self):
        return sum(host["changed"] for host in self.recap.values())


def playbook_env(sandbox):
    return dict(os.environ, ANSIBLE_CACHE_PLUGIN_CONNECTION=str(sandbox.state_dir / "fact-cache"),
                ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def run_playbook(sandbox, playbook, extra_vars, check=True, args=()):
    completed = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(sandbox.inventory_path), "playbooks/%s" % playbook,
         "-e", json.dumps(extra_vars)] + list(args),
        cwd=REPO_ROOT, env=playbook_env(sandbox), capture_output=True, text=True, timeout=900, check=False)
    run = PlaybookRun(completed)
    if check and run.rc != 0:
        raise AssertionError("%s %s failed (rc=%d):\n%s" % (playbook, extra_vars, run.rc, run.output[-5000:]))
    return run


def host_facts(host):
    text = host.run(["cat", "/etc/ansible/facts.d/novalite.fact"], check=False).stdout
    return json.loads(text) if text else {"instances": {}, "fixed_ips": {}, "networks": {}}


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
    host = sandbox.host(record["host"])
    return (host.state_dir / "lib" / "novalite" / "instances" / record["name"] / "console.log")


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
