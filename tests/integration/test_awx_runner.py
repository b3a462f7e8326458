"""Issue 6 acceptance: the playbook runs under ansible-runner the way an AWX/Tower job template
with a survey runs it: a private data dir with the project, the inventory, and the survey
answers as extra vars (AWX adds its own job variables beside them)."""

import json
import os
import shutil
import sys
from pathlib import Path

import ansible_runner

from flow_helpers import instances_named

REPO_ROOT = Path(__file__).resolve().parents[2]
SURVEY_PASSWORD = "survey-S3cret-pw"

# What AWX passes for a survey with text, integer, multiple-choice and password questions.
SURVEY_ANSWERS = {
    "vm_name": "awx-vm",
    "count": 1,
    "flavor": "m1.tiny",
    "admin_password": SURVEY_PASSWORD,
    "user_data": "#!/bin/sh\necho awx-survey-user-data\n",
    "awx_job_id": 42, "awx_job_template_name": "Create VM", "tower_job_id": 42,
}


def private_data_dir(tmp_path, sandbox, installed_collection):
    """project/ as AWX checks it out, the collection installed as AWX installs a project's
    collections (into the job's own directory, on ANSIBLE_COLLECTIONS_PATH), inventory/ and env/."""
    root = tmp_path / "runner"
    shutil.copytree(REPO_ROOT, root / "project", ignore=shutil.ignore_patterns(
        ".venv*", ".collections", ".git", ".ansible", "__pycache__", ".pytest_cache"))
    collections = root / "requirements_collections"
    shutil.copytree(installed_collection["collections"], collections)
    (root / "inventory").mkdir()
    shutil.copy(sandbox.inventory_path, root / "inventory" / "hosts.yml")
    (root / "env").mkdir()
    (root / "env" / "extravars").write_text(json.dumps(SURVEY_ANSWERS))
    (root / "env" / "envvars").write_text(json.dumps({
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(sandbox.state_dir / "awx-fact-cache"),
        "PATH": "%s:%s" % (Path(sys.executable).parent, os.environ["PATH"]),
    }))
    return root


def test_survey_run_creates_the_vm_and_never_shows_the_password(tmp_path, flow_sandbox, installed_collection):
    sandbox = flow_sandbox
    data_dir = private_data_dir(tmp_path, sandbox, installed_collection)
    try:
        check_survey_run(data_dir, sandbox)
    finally:
        deleted = ansible_runner.run(private_data_dir=str(data_dir), playbook="playbooks/delete_vm.yml",
                                     extravars={"vm_name": SURVEY_ANSWERS["vm_name"]}, quiet=True, timeout=600)
        assert deleted.status == "successful", deleted.stdout.read()[-3000:]


def check_survey_run(data_dir, sandbox):
    runner = ansible_runner.run(private_data_dir=str(data_dir), playbook="playbooks/create_vm.yml",
                                quiet=True, timeout=900)
    output = runner.stdout.read()
    assert runner.status == "successful", output[-3000:]
    assert SURVEY_PASSWORD not in output
    events = json.dumps(list(runner.events))
    assert SURVEY_PASSWORD not in events
    assert "awx-vm" in output  # the report table

    recap = runner.stats
    assert sum(recap["failures"].values()) == 0
    created = instances_named(sandbox, SURVEY_ANSWERS["vm_name"])
    assert list(created) == ["awx-vm"] and created["awx-vm"]["vm_state"] == "active"
