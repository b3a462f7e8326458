"""SSH access to sandbox hosts over a management network (``sandbox.py up --ssh``).

The pieces ``sandbox.py`` assembles, as plain functions of paths and addresses:

- the management subnet: 169.254.X.0/24, X claimed on this machine by creating the machine's
  end of the management link (``nlmgmt<X>``); creating a link is atomic, so two sandboxes coming
  up at the same moment never get the same X. 169.254.169.0/24 (the metadata service's) and
  the reserved 169.254.0.0/24 and 169.254.255.0/24 are never used;
- the management switch's filter (ebtables in the sandbox's own ``-mgmt`` namespace): hosts talk
  to each other freely inside the subnet; towards the machine they only answer (ssh replies and
  ping replies), so nothing in a host, and no guest behind it, opens a connection to the machine;
- the run's key pair, each host's host key and its own ``/etc/ssh`` (sshd_config, ssh_config,
  ssh_known_hosts, authorized_keys, the key root uses for migration), and the machine-side
  ssh_config and known_hosts that the SSH inventory uses;
- starting each host's sshd inside its namespaces and stopping it, and the SSH control masters
  that Ansible leaves behind, by pid.
"""

import json
import re
import shutil
import socket
import subprocess
import time
import zlib
from pathlib import Path

MGMT_PREFIX = "169.254."
METADATA_OCTET = 169  # 169.254.169.254 is the metadata service's address: never a sandbox's subnet
CONTROLLER_OCTET = 254  # the machine's end of the management link
MACHINE_LINK = "nlmgmt%d"  # the machine's end, named by the subnet it claims
ALIAS = "novalite-sandbox:%s"  # the ifalias of every link a sandbox puts in the machine's namespace
HOST_SSH_DIR = "/etc/ssh"  # each host's own, bind-mounted from its state dir
MIGRATION_KEY = HOST_SSH_DIR + "/id_ed25519_novalite"  # root's key for host-to-host ssh (libvirt's qemu+ssh)
MIGRATION_URI = "qemu+ssh://root@%s/system?keyfile=" + MIGRATION_KEY + "&no_tty=1"
SSHD = "/usr/sbin/sshd"
SSHD_TIMEOUT = 15.0


def subnet_candidates(name):
    """The third octets a sandbox called ``name`` tries, in order: from a spot its name picks
    (so concurrent sandboxes rarely contend), through every usable one."""
    usable = [x for x in range(1, 255) if x != METADATA_OCTET]
    start = zlib.crc32(name.encode()) % len(usable)
    return usable[start:] + usable[:start]


def link_local_octets_in_use(sh):
    """Third octets of every 169.254.X address or route the machine's namespace already has."""
    text = sh("ip", "-o", "-4", "addr", "show", capture=True).stdout
    text += sh("ip", "-4", "route", "show", "table", "all", capture=True).stdout
    return {int(octet) for octet in re.findall(r"\b169\.254\.(\d+)\.", text)}


def claim_subnet(sh, name, peer_netns, peer_name):
    """Create the machine's end of the management link for a free 169.254.X.0/24 and return X;
    the other end (``peer_name``) goes into ``peer_netns``."""
    in_use = link_local_octets_in_use(sh)
    for octet in subnet_candidates(name):
        if octet in in_use:
            continue
        result = sh("ip", "link", "add", MACHINE_LINK % octet, "type", "veth", "peer", "name", peer_name,
                    "netns", peer_netns, check=False, capture=True)
        if result.returncode == 0:
            return octet
        if "File exists" not in result.stderr:
            raise RuntimeError("cannot create %s: %s" % (MACHINE_LINK % octet, result.stderr.strip()))
    raise RuntimeError("no free 169.254.X.0/24 for the management network")


def machine_links(sh, name):
    """Names of the links in the machine's namespace that sandbox ``name`` put there."""
    links = json.loads(sh("ip", "-j", "link", "show", capture=True).stdout or "[]")
    return [link["ifname"] for link in links if link.get("ifalias") == ALIAS % name]


def filter_rules(network, uplink, hosts_port_glob):
    """ebtables FORWARD rules for the management switch (bridge ``mg0``)."""
    return [
        ["-p", "ARP", "-j", "ACCEPT"],
        ["-p", "IPv4", "--ip-src", "!", network, "-j", "DROP"],
        ["-p", "IPv4", "--ip-dst", "!", network, "-j", "DROP"],
        # towards the machine only answers: from sshd, and to the machine's pings
        ["-i", hosts_port_glob, "-o", uplink, "-p", "IPv4", "--ip-proto", "tcp", "--ip-sport", "22", "-j", "ACCEPT"],
        ["-i", hosts_port_glob, "-o", uplink, "-p", "IPv4", "--ip-proto", "icmp",
         "--ip-icmp-type", "echo-reply", "-j", "ACCEPT"],
        ["-o", uplink, "-j", "DROP"],
        ["-p", "IPv4", "-j", "ACCEPT"],
        ["-j", "DROP"],  # IPv6 and anything else: the management network is IPv4 only
    ]


def make_key(path, comment):
    """An ed25519 key pair without passphrase at ``path`` and ``path``.pub; the public key's line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True, text=True)
    return Path(str(path) + ".pub").read_text().strip()


def known_hosts_lines(hosts):
    """known_hosts lines naming each host by name and management address: [(name, address, public key)]."""
    return "".join("%s,%s %s\n" % (name, address, " ".join(key.split()[:2])) for name, address, key in hosts)


def write_private(path, text, mode=0o600):
    path.write_text(text)
    path.chmod(mode)


def sshd_config(address):
    return """\
# Written by sandbox/sandbox.py: root logs in with the sandbox run's key, on the management
# address only; no passwords, no PAM (the host has no session services).
ListenAddress {address}:22
HostKey {dir}/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
AllowUsers root
AuthenticationMethods publickey
PubkeyAuthentication yes
AuthorizedKeysFile {dir}/authorized_keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
Subsystem sftp /usr/lib/openssh/sftp-server
""".format(address=address, dir=HOST_SSH_DIR)


def host_ssh_config():
    """The host's /etc/ssh/ssh_config: root reaches the other hosts with the run's key, every host
    key is known in advance, and nothing prompts (libvirtd opens migration connections itself)."""
    return """\
# Written by sandbox/sandbox.py: host-to-host ssh over the management network.
Host *
    IdentityFile {key}
    IdentitiesOnly yes
    GlobalKnownHostsFile {dir}/ssh_known_hosts
    UserKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    GSSAPIAuthentication no
""".format(key=MIGRATION_KEY, dir=HOST_SSH_DIR)


def controller_ssh_config(hosts, key, known_hosts):
    """The machine-side ssh_config (``ssh -F``): ``Host compute1`` etc. plus the run's key and known hosts;
    it replaces ~/.ssh/config and /etc/ssh/ssh_config, so nothing of the machine's own ssh setup applies."""
    lines = ["# Written by sandbox/sandbox.py: ssh -F THIS_FILE compute1"]
    for name, address in hosts:
        lines += ["Host %s" % name, "    HostName %s" % address]
    lines += ["Host *", "    User root", "    IdentityFile %s" % key, "    IdentitiesOnly yes",
              "    UserKnownHostsFile %s" % known_hosts, "    GlobalKnownHostsFile /dev/null",
              "    StrictHostKeyChecking yes", "    BatchMode yes", "    GSSAPIAuthentication no", ""]
    return "\n".join(lines)


def prepare_host_ssh_dir(etc_ssh, address, run_key, run_public_key, host_name):
    """The host's own /etc/ssh: sshd's config and host key, root's authorized key, the client config and
    the migration key. Returns the host's public host key line."""
    etc_ssh.mkdir(parents=True)
    if Path("/etc/ssh/moduli").exists():
        shutil.copy("/etc/ssh/moduli", etc_ssh / "moduli")  # sshd's DH groups, as on any host
    host_key = make_key(etc_ssh / "ssh_host_ed25519_key", "root@%s" % host_name)
    (etc_ssh / "sshd_config").write_text(sshd_config(address))
    (etc_ssh / "ssh_config").write_text(host_ssh_config())
    authorized = etc_ssh / "authorized_keys"
    authorized.mkdir(mode=0o755)
    write_private(authorized / "root", run_public_key + "\n")
    write_private(etc_ssh / Path(MIGRATION_KEY).name, run_key.read_text())
    write_private(etc_ssh / (Path(MIGRATION_KEY).name + ".pub"), run_public_key + "\n", 0o644)
    return host_key


def start_sshd(host, address):
    """Start sshd inside ``host``'s namespaces; return its pid once it greets on ``address``:22."""
    (host.state_dir / "run" / "sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
    result = host.run([SSHD, "-E", "/run/sshd.log"], check=False)
    if result.returncode != 0:
        raise RuntimeError("sshd on %s did not start: %s%s" % (host.name, result.stderr, sshd_log(host)))
    deadline = time.monotonic() + SSHD_TIMEOUT
    while time.monotonic() < deadline:
        pid = sshd_pid(host)
        if pid and greets(address):
            return pid
        time.sleep(0.05)
    raise RuntimeError("sshd on %s did not answer on %s:22 within %ss%s"
                       % (host.name, address, SSHD_TIMEOUT, sshd_log(host)))


def sshd_pid(host):
    try:
        return int((host.state_dir / "run" / "sshd.pid").read_text())
    except (FileNotFoundError, ValueError):
        return None


def sshd_log(host):
    path = host.state_dir / "run" / "sshd.log"
    return ("\n" + path.read_text()) if path.exists() else ""


def greets(address, port=22, timeout=1.0):
    """Whether an SSH server answers with its banner at address:port."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            return conn.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def control_master_pids(control_dir):
    """Pids of the SSH control masters (Ansible's ControlPersist connections) with sockets in ``control_dir``."""
    pids = []
    for sock in sorted(Path(control_dir).glob("*")) if Path(control_dir).is_dir() else []:
        check = subprocess.run(["ssh", "-F", "none", "-o", "ControlPath=%s" % sock, "-O", "check", "sandbox-host"],
                               capture_output=True, text=True, check=False)
        found = re.search(r"pid=(\d+)", check.stderr + check.stdout)
        if found:
            pids.append(int(found.group(1)))
    return pids
