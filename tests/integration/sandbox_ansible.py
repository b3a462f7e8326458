"""The collection's modules and playbooks run against a sandbox, and the facts they leave.

- ``run_module`` / ``ModuleRun``: one ad-hoc ``ansible HOST -m novalite.compute.MODULE`` (in the
  background for runs that must overlap); the module's whole result, ``diff`` included, comes back
  through callback_plugins/module_results.py.
- ``run_playbook`` / ``PlaybookRun``: ``ansible-playbook`` with the sandbox's inventory and fact cache;
  rc, output and the PLAY RECAP counts.
- ``host_facts``: what a host's novalite local facts hold.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
BIN = Path(sys.executable).parent
TIMEOUT = 900  # TCG guests on a shared 2-core machine: generous
FACTS = "/etc/ansible/facts.d/novalite.fact"
NO_FACTS = '{"instances": {}, "fixed_ips": {}, "networks": {}}'
RECAP_LINE = re.compile(r"^(\S+)\s+:\s+(ok=.*)$", re.MULTILINE)


def ansible_env(sandbox, **extra):
    """The environment of every ansible command: the checkout's config, the sandbox's own fact cache."""
    return dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
                ANSIBLE_CACHE_PLUGIN_CONNECTION=str(sandbox.state_dir / "fact-cache"),
                ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", **extra)


class AnsibleProcess:
    """An ansible command running in the background from the checkout."""

    def __init__(self, command, env):
        self.started = time.time()
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait(self, timeout):
        """(stdout, stderr) once it has exited; killed if it outlives ``timeout``."""
        try:
            stdout, stderr = self.process.communicate(timeout=timeout)
        finally:
            self.stop()
        self.finished = time.time()
        return stdout, stderr

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


class ModuleRun(AnsibleProcess):
    """``ansible HOST -m novalite.compute.MODULE -a ARGS``; ``result()`` waits for its result."""

    def __init__(self, sandbox, host_name, module, args, check=False, diff=False):
        self.host_name = host_name
        self.workdir = tempfile.TemporaryDirectory(prefix="nl-module-")
        self.results = Path(self.workdir.name) / "results.json"
        command = [str(BIN / "ansible"), host_name, "-i", str(sandbox.inventory_path),
                   "-m", "novalite.compute." + module, "-a", json.dumps(args)]
        command += ["--check"] if check else []
        command += ["--diff"] if diff else []
        super().__init__(command, ansible_env(
            sandbox, NOVALITE_TEST_RESULTS=str(self.results), ANSIBLE_STDOUT_CALLBACK="module_results",
            ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback_plugins"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1"))

    def result(self, timeout=TIMEOUT):
        """The module's result, with ``failed`` set either way."""
        try:
            stdout, stderr = self.wait(timeout)
            if not self.results.exists():
                raise AssertionError("ansible gave no result (rc=%d):\n%s\n%s"
                                     % (self.process.returncode, stdout, stderr))
            return json.loads(self.results.read_text())[self.host_name]
        finally:
            self.workdir.cleanup()


def run_module(sandbox, host_name, module, args, check=False, diff=False, timeout=TIMEOUT):
    return ModuleRun(sandbox, host_name, module, args, check=check, diff=diff).result(timeout)


class PlaybookRun(AnsibleProcess):
    """``ansible-playbook PLAYBOOK`` (a path from the checkout's root); ``finish()`` fills rc, output, recap."""

    def __init__(self, sandbox, playbook, extra_vars, check=False):
        self.playbook, self.extra_vars = playbook, extra_vars
        command = [str(BIN / "ansible-playbook"), "-i", str(sandbox.inventory_path), str(playbook),
                   "-e", json.dumps(extra_vars)]
        command += ["--check"] if check else []
        super().__init__(command, ansible_env(sandbox))

    def finish(self, timeout=TIMEOUT):
        stdout, stderr = self.wait(timeout)
        self.rc = self.process.returncode
        self.output = stdout + stderr
        self.recap = recap(stdout)
        return self

    @property
    def changed(self):
        return sum(host["changed"] for host in self.recap.values())


def run_playbook(sandbox, playbook, extra_vars, check=False, may_fail=False):
    """The finished PlaybookRun; AssertionError when it failed and ``may_fail`` is not set."""
    run = PlaybookRun(sandbox, playbook, extra_vars, check=check).finish()
    if run.rc != 0 and not may_fail:
        raise AssertionError("%s %s failed (rc=%d):\n%s" % (playbook, extra_vars, run.rc, run.output[-5000:]))
    return run


def recap(stdout):
    """{host: {"ok": n, "changed": n, "failed": n, ...}} from the PLAY RECAP."""
    return {host: {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", fields)}
            for host, fields in RECAP_LINE.findall(stdout)}


def host_facts(host):
    """The host's novalite local facts; empty ones before anything recorded any."""
    text = host.run(["cat", FACTS], check=False).stdout
    return json.loads(text or NO_FACTS)
