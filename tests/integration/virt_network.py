"""The flat network on a sandbox host for the virt tests, and the test's own observers on it.

- ``flat_network``: br100 with the DHCP-server address and a dnsmasq in Nova's static mode
  (guests.py does the work), removed again afterwards.
- ``HostListener``: an HTTP server on the host's bridge address that records who reached it
  (client address and path): what a guest "gets through" is what arrives here.
- ``OutsideClient``: a namespace of the test's own on br100 with an address outside the project
  network, so the security groups' rules (not the project-network accept) decide what it reaches.
  Its traffic to a guest is bridged (the FORWARD path nwfilter's iptables rules see); the guest's
  answers come back routed through the host, which gets a secondary address and ip_forward.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from guests import remove_flat_bridge, setup_flat_bridge, start_dnsmasq, world_readable_dir
from sandbox import sh, stop_pids

BRIDGE = "br100"
DHCP_SERVER = "10.1.0.3"
LISTENER_PORT = 7777
OUTSIDE_NETWORK_HOST = "192.168.50.1/24"  # the compute host's secondary address, outside 10.1.0.0/16
OUTSIDE_CLIENT = "192.168.50.2"
BRIDGE_SAFE_MAC = "fe:5e:00:00:00:01"

LISTENER_CODE = r"""
import http.server, json, sys
address, port, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Recorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log_path, "a") as log:
            log.write(json.dumps([self.client_address[0], self.path]) + "\n")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok\n")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((address, port), Recorder).serve_forever()
"""

CLIENT_GET_CODE = r"""
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])) as conn:
        conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
        reply = b""
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
    print(reply.split(b"\r\n\r\n", 1)[-1].decode(), end="")
except OSError as exc:
    print("unreachable: %s" % exc, file=sys.stderr)
    sys.exit(3)
"""


@contextlib.contextmanager
def flat_network(host, dhcp_hosts, dhcp_server=DHCP_SERVER):
    """br100 + dnsmasq on ``dhcp_server`` serving ``dhcp_hosts`` [(mac, hostname, ip)] on ``host``;
    all removed after."""
    workdir = world_readable_dir("nl-virt-dnsmasq-")
    setup_flat_bridge(host, BRIDGE, dhcp_server)
    pid = None
    try:
        pid = start_dnsmasq(host, workdir, dhcp_server, dhcp_hosts)
        yield
    finally:
        if pid:
            stop_pids([pid])
        remove_flat_bridge(host, BRIDGE)
        shutil.rmtree(workdir, ignore_errors=True)


class HostListener:
    """Who reached ``DHCP_SERVER:LISTENER_PORT`` on the host, as [(client address, path)]."""

    def __init__(self, host):
        self.workdir = Path(tempfile.mkdtemp(prefix="nl-virt-listener-"))
        self.log = self.workdir / "requests.log"
        self.log.touch()
        self.process = subprocess.Popen(
            host.enter_command([sys.executable, "-c", LISTENER_CODE, DHCP_SERVER, str(LISTENER_PORT), str(self.log)]),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1)
        if self.process.poll() is not None:
            raise AssertionError("listener exited: %s" % self.process.stderr.read().decode())

    def requests(self):
        return [tuple(json.loads(line)) for line in self.log.read_text().splitlines() if line.strip()]

    def seen(self, path_prefix):
        return [client for client, path in self.requests() if path.startswith(path_prefix)]

    def wait_for(self, path_prefix, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.seen(path_prefix):
                return self.seen(path_prefix)
            time.sleep(1)
        return []

    def stop(self):
        stop_pids([self.process.pid])
        self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


class OutsideClient:
    """A namespace (named under the sandbox's prefix, so ``down`` would remove it too) on br100."""

    def __init__(self, sandbox, host):
        self.host = host
        self.netns = "%s-client%d" % (sandbox.prefix, os.getpid())
        self.forwarding = host.run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip()
        sh("ip", "netns", "add", self.netns, capture=True)
        try:
            sh("ip", "link", "add", "vc0", "netns", self.netns, "type", "veth", "peer", "name", "vcl0",
               "netns", host.netns, capture=True)
            # A bridge takes the lowest MAC of its ports; a random veth MAC below eth0's would change
            # br100's MAC under the guests' ARP caches. fe:... stays above, as libvirt's taps do.
            host.run(["ip", "link", "set", "vcl0", "address", BRIDGE_SAFE_MAC])
            host.run(["ip", "link", "set", "vcl0", "master", BRIDGE, "up"])
            host.run(["ip", "addr", "add", OUTSIDE_NETWORK_HOST, "dev", BRIDGE])
            host.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])  # the guests' answers are routed back
            for args in (["link", "set", "lo", "up"], ["link", "set", "vc0", "up"],
                         ["addr", "add", OUTSIDE_CLIENT + "/24", "dev", "vc0"],
                         ["route", "add", "10.1.0.0/16", "dev", "vc0"]):  # on-link: bridged to the guests
                sh("ip", "-n", self.netns, *args, capture=True)
        except BaseException:
            self.remove()
            raise

    def http_get(self, address, port, timeout=5):
        """The body served at address:port, or None when the connection does not get through."""
        run = subprocess.run(["ip", "netns", "exec", self.netns, sys.executable, "-c", CLIENT_GET_CODE, address,
                              str(port), str(timeout)], capture_output=True, text=True, timeout=timeout + 30,
                             check=False)
        return run.stdout if run.returncode == 0 else None

    def pings(self, address):
        return subprocess.run(["ip", "netns", "exec", self.netns, "ping", "-c", "1", "-W", "3", address],
                              capture_output=True, timeout=30, check=False).returncode == 0

    def remove(self):
        self.host.run(["ip", "link", "del", "vcl0"], check=False)
        self.host.run(["ip", "addr", "del", OUTSIDE_NETWORK_HOST, "dev", BRIDGE], check=False)
        self.host.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=%s" % self.forwarding], check=False)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, check=False)


def network_state(host):
    """The host's filters, neighbours, routes and forwarding, for a failure message."""
    commands = (["iptables", "-L", "-v", "-n"], ["ebtables", "-t", "nat", "-L", "--Lc"], ["ip", "neigh"],
                ["ip", "route"], ["ip", "-br", "addr"], ["sysctl", "net.ipv4.ip_forward"])
    return "\n".join("$ %s\n%s" % (" ".join(args), host.run(args, check=False).stdout) for args in commands)
