"""Running nova_network and the network playbooks against the sandbox, and reading hosts back."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks" / "network"
MODULE = "novalite.compute.nova_network"
FACTS = "/etc/ansible/facts.d/novalite.fact"
ANSIBLE_TIMEOUT = 600

SEED_NETWORK = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
                "dns1": "8.8.4.4", "bridge": "br100", "bridge_interface": "eth0", "multi_host": True}


def ansible_env():
    return dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_RETRY_FILES_ENABLED="0")


def open_dir(prefix):
    """A temp directory others can read (nothing of ours must sit under pytest's 0700 tmp_path)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def run_module(sandbox, host, args, check=False, diff=False):
    """One ad-hoc nova_network call on ``host``; its result dict (``failed`` set on failure)."""
    tree = open_dir("nl-network-tree-")
    try:
        command = [str(BIN / "ansible"), "-i", str(sandbox.inventory_path), host, "-m", MODULE,
                   "-a", json.dumps(args), "-t", str(tree)]
        command += ["--check"] if check else []
        command += ["--diff", "-vvv"] if diff else []  # below -vvv callbacks drop the diff
        done = subprocess.run(command, cwd=REPO, env=ansible_env(), capture_output=True, text=True,
                              timeout=ANSIBLE_TIMEOUT, check=False)
        result_file = tree / host
        assert result_file.exists(), "no result from ansible:\n%s\n%s" % (done.stdout, done.stderr)
        result = json.loads(result_file.read_text())
        result["failed"] = done.returncode != 0  # the tree callback leaves "failed" out
        return result
    finally:
        shutil.rmtree(tree)


def playbook_command(sandbox, playbook, extra_vars, check=False):
    return [str(BIN / "ansible-playbook"), "-i", str(sandbox.inventory_path), str(PLAYBOOKS / playbook),
            "-e", json.dumps(extra_vars)] + (["--check"] if check else [])


def start_playbook(sandbox, playbook, extra_vars):
    """ansible-playbook in the background (for runs that must overlap); the caller waits for it."""
    return subprocess.Popen(playbook_command(sandbox, playbook, extra_vars), cwd=REPO, env=ansible_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_playbook(sandbox, playbook, extra_vars, check=False):
    done = subprocess.run(playbook_command(sandbox, playbook, extra_vars, check), cwd=REPO, env=ansible_env(),
                          capture_output=True, text=True, timeout=ANSIBLE_TIMEOUT, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout


def recap(stdout):
    """{host: {"ok": n, "changed": n, "failed": n, ...}} from the PLAY RECAP."""
    counts = {}
    for host, fields in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", stdout, re.MULTILINE):
        counts[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fields)}
    return counts


def host_facts(host):
    done = host.run(["cat", FACTS], check=False)
    return json.loads(done.stdout) if done.returncode == 0 else None


def host_state(host):
    """What a failed or check-mode call must leave alone: facts, links, addresses, routes, chains, files."""
    iptables = host.run(["iptables-save", "-t", "filter"]).stdout
    return {
        "facts": host.run(["cat", FACTS], check=False).stdout,
        "addresses": host.run(["ip", "-br", "addr"]).stdout,
        "links": host.run(["ip", "-br", "link"]).stdout,
        "routes": host.run(["ip", "route"]).stdout,
        "iptables": [line for line in iptables.splitlines() if not line.startswith("#")],
        "networks_dir": host.run(["ls", "-la", "/var/lib/novalite/networks"], check=False).stdout,
        "ip_forward": host.run(["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout,
    }


def take_network_down(sandbox, network=None):
    """Release every instance of the network on every host, then take it down with the bridge."""
    network = network or SEED_NETWORK
    for host in sandbox.hosts:
        facts = host_facts(host) or {"fixed_ips": {}}
        holders = [{"instance_uuid": r["instance_uuid"]} for r in facts["fixed_ips"].values()
                   if r["network_id"] == network["uuid"]]
        if holders:
            released = run_module(sandbox, host.name, {"network": network, "state": "absent", "instances": holders})
            assert not released.get("failed"), released
        down = run_module(sandbox, host.name, {"network": network, "state": "absent", "remove_bridge": True})
        assert not down.get("failed"), down
