"""roles/prepare_host/files/host_ready.py: what the role would still do, read in one remote call."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "roles" / "prepare_host" / "files" / "host_ready.py"


def load():
    spec = importlib.util.spec_from_file_location("host_ready", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_os_family_comes_from_os_release(tmp_path):
    host_ready = load()
    release = tmp_path / "os-release"
    release.write_text('ID=raspbian\nID_LIKE="debian"\n')
    assert host_ready.os_family(str(release)) == "Debian"
    release.write_text('ID="rocky"\nID_LIKE="rhel centos fedora"\n')
    assert host_ready.os_family(str(release)) == "RedHat"
    release.write_text("ID=arch\n")
    assert host_ready.os_family(str(release)) is None
    assert host_ready.os_family(str(tmp_path / "none")) is None


def test_packages_of_an_unknown_family_count_as_missing():
    assert load().missing_packages(None, ["qemu-utils"]) == ["qemu-utils"]


def test_as_a_command_it_names_what_differs(tmp_path):
    sysctl_file = tmp_path / "60-novalite.conf"
    sysctl_file.write_text("# other\n")
    done_dir = tmp_path / "instances"
    done_dir.mkdir(mode=0o755)
    done_dir.chmod(0o755)
    wanted = {"packages": None, "sysctl_file": str(sysctl_file), "sysctl_text": "# ours\n",
              "sysctls": {"no.such.setting": 1}, "directories": [str(done_dir), str(tmp_path / "networks")]}
    done = subprocess.run([sys.executable, "-c", SCRIPT.read_text(), json.dumps(wanted)],
                          capture_output=True, text=True, check=True)
    missing = json.loads(done.stdout)["missing"]
    assert str(sysctl_file) in missing and "sysctl no.such.setting" in missing
    assert str(tmp_path / "networks") in missing and str(done_dir) not in missing
    sysctl_file.write_text("# ours\n")
    sysctl_file.chmod(0o644)
    wanted.update(sysctls={}, directories=[str(done_dir)])
    done = subprocess.run([sys.executable, "-c", SCRIPT.read_text(), json.dumps(wanted)],
                          capture_output=True, text=True, check=True)
    assert [m for m in json.loads(done.stdout)["missing"] if not m.startswith(("libvirtd", "br_netfilter"))] == []


def test_a_libvirt_that_does_not_answer_counts_as_missing():
    assert load().libvirt_answers("nope:///nowhere") is False
