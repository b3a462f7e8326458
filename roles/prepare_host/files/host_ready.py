# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether this machine is already the compute host roles/prepare_host makes it, in one remote call.

Run by the role as ``python3 -c <this file's text> <wanted as JSON>`` (standard library only, so
that it also answers on a fresh machine); prints ``{"os_family", "service_mgr", "missing": [...]}``,
where ``missing`` names what differs from what the role's tasks would make: packages not
installed, libvirtd not running or not enabled (under systemd), bridge netfilter not loaded, the
sysctl file, a kernel setting, a directory, libvirt answering with its nwfilter driver. Empty
``missing``: the role has nothing to do. Reads only; an unknown OS family (or package tool), or a
libvirt that does not answer, counts as missing, so the role's own tasks decide (and fail with
their own message, as ``compute_node_facts`` and the nwfilter check do).
"""

import json
import os
import subprocess
import sys

FAMILIES = {"debian": "Debian", "ubuntu": "Debian", "rhel": "RedHat", "fedora": "RedHat", "centos": "RedHat"}


def os_family(release="/etc/os-release"):
    fields = {}
    try:
        with open(release) as handle:
            for line in handle:
                key, _sep, value = line.strip().partition("=")
                fields[key] = value.strip('"')
    except OSError:
        return None
    for name in [fields.get("ID", "")] + fields.get("ID_LIKE", "").split():
        if name in FAMILIES:
            return FAMILIES[name]
    return None


def output(argv):
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False)
    except OSError:
        return None, ""
    return done.returncode, done.stdout


def missing_packages(family, packages):
    if family == "Debian":
        _rc, out = output(["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\\n"] + packages)
        installed = {line.split()[0] for line in out.splitlines() if line.endswith(" installed")}
        return [p for p in packages if p not in installed]
    if family == "RedHat":
        _rc, out = output(["rpm", "-q", "--qf", "%{NAME}\\n"] + packages)
        # a package not installed is a line "package NAME is not installed"
        installed = {line.strip() for line in out.splitlines() if line.strip() and " " not in line.strip()}
        return [p for p in packages if p not in installed]
    return list(packages)


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def mode_of(path):
    try:
        return oct(os.stat(path).st_mode & 0o7777)
    except OSError:
        return None


def libvirt_answers(uri):
    """libvirt answers at ``uri`` (read-only) and has its nwfilter driver (it can list filters)."""
    try:
        import libvirt  # pylint: disable=import-outside-toplevel
        libvirt.registerErrorHandler(lambda _context, _error: None, None)
        conn = libvirt.openReadOnly(uri)
        try:
            conn.listNWFilters()
        finally:
            conn.close()
    except Exception:  # pylint: disable=broad-exception-caught
        return False
    return True


def main(wanted):
    family = os_family()
    service_mgr = "systemd" if os.path.isdir("/run/systemd/system") else "other"
    missing = []
    if wanted["packages"] is not None:
        missing += ["package %s" % p for p in missing_packages(family, wanted["packages"].get(family or "", []))]
        if family is None:
            missing.append("os family")
    if service_mgr == "systemd":
        for state, verb in (("active", "is-active"), ("enabled", "is-enabled")):
            if output(["systemctl", verb, "libvirtd"])[1].strip() != state:
                missing.append("libvirtd %s" % state)
    if not os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
        missing.append("br_netfilter")
    if read(wanted["sysctl_file"]) != wanted["sysctl_text"] or mode_of(wanted["sysctl_file"]) != "0o644":
        missing.append(wanted["sysctl_file"])
    for key, value in sorted(wanted["sysctls"].items()):
        if (read("/proc/sys/" + key.replace(".", "/")) or "").strip() != str(value):
            missing.append("sysctl %s" % key)
    for directory in wanted["directories"]:
        if not os.path.isdir(directory) or mode_of(directory) != "0o755":
            missing.append(directory)
    if wanted.get("libvirt_uri") and not libvirt_answers(wanted["libvirt_uri"]):
        missing.append("libvirt nwfilter driver at %s" % wanted["libvirt_uri"])
    return {"os_family": family, "service_mgr": service_mgr, "missing": missing}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
