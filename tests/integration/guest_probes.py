"""Probes run by real test guests, and the servers they probe in the sandbox's switch namespace.

The test guest runs user data beginning with ``#!`` after DHCP (sandbox/guest_image/README.md)
and prints to its serial console. ``probe_user_data`` makes user data that starts a loop in the
background (out of reach of the guest's 120 s limit for user data), which every round prints

    probe <n> router=ok|failed internet=<what the seen server answered>|failed
    probe <n> dns <name>=<address>|none                 (every third round, each name)
    probe <n> meta os=<meta_data.json> ...              (every fifth round, see below)

The password is never printed: meta_data.json's ``admin_pass`` becomes "set" and its md5 is
printed apart (``admin_pass_md5=``), so a test proves the guest got it without showing it.
``rounds_after`` reads the rounds a console printed after a given offset, for tests that change
the network and wait for the guest to see the change.

``seen_server`` is an HTTP server that answers ``seen <client address>`` (who the request came
from, after any NAT) and ``dns_server`` a dnsmasq answering one name; both run in a namespace
(``Sandbox.switch_command``) and are stopped by their pid.
"""

import contextlib
import re
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

PYTHON = "/usr/bin/python3"
SEEN_SERVER = r'''
import http.server, sys
class Seen(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("seen %s\n" % self.client_address[0]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Seen)
print("listening", flush=True)
server.serve_forever()
'''
ROUND = re.compile(r"(?m)^probe (\d+) (.*?)\r?$")


def probe_user_data(router, internet, port, names, period=2):
    """User data whose background loop probes the router, the seen server, DNS names and the metadata."""
    loop = textwrap.dedent("""\
        #!/bin/sh
        md() { timeout 8 wget -q -O - "http://169.254.169.254/$1" 2>/dev/null; }
        n=0
        while :; do
          n=$((n + 1))
          if ping -c 1 -W 2 ROUTER >/dev/null 2>&1; then r=ok; else r=failed; fi
          seen=$(timeout 6 wget -q -O - http://INTERNET:PORT/ 2>/dev/null | tr -d '\\r\\n')
          echo "probe $n router=$r internet=${seen:-failed}"
          if [ $((n % 3)) -eq 1 ]; then
            for name in NAMES; do
              a=$(timeout 6 nslookup "$name" 2>/dev/null | awk '/^Name:/ {f = 1} f && /^Address/ {print $NF; exit}')
              echo "probe $n dns $name=${a:-none}"
            done
          fi
          if [ $((n % 5)) -eq 1 ]; then
            os=$(md openstack/latest/meta_data.json)
            pass=$(echo "$os" | sed -n 's/.*"admin_pass": "\\([^"]*\\)".*/\\1/p')
            echo "probe $n meta os=$(echo "$os" | sed -e 's/"admin_pass": "[^"]*"/"admin_pass": "set"/' \\
                -e 's/"random_seed": "[^"]*"/"random_seed": "set"/')"
            echo "probe $n meta admin_pass_md5=$(printf %s "$pass" | md5sum | cut -d' ' -f1)"
            echo "probe $n meta ec2 instance-id=$(md latest/meta-data/instance-id) hostname=$(md latest/meta-data/hostname) \\
        local-ipv4=$(md latest/meta-data/local-ipv4) public-ipv4=$(md latest/meta-data/public-ipv4)"
            echo "probe $n meta ec2-pass=$(md latest/meta-data/ | grep -c -i pass) versions=$(md | tr '\\n' ,) \\
        openstack=$(md openstack | tr '\\n' ,) latest=$(md openstack/latest | tr '\\n' ,)"
          fi
          sleep PERIOD
        done
        """).replace("ROUTER", router).replace("INTERNET", internet).replace("PORT", str(port)).replace(
        "NAMES", " ".join(names)).replace("PERIOD", str(period))
    return ("#!/bin/sh\ncat > /tmp/probe.sh <<'PROBE'\n%sPROBE\nchmod 700 /tmp/probe.sh\n"
            "setsid /tmp/probe.sh </dev/null >/dev/console 2>&1 &\necho 'probe loop started'\n" % loop)


def rounds_after(console_log, offset=0):
    """[(round, text)] the console printed after byte ``offset``."""
    text = console_log.read_bytes()[offset:].decode(errors="replace") if console_log.exists() else ""
    return [(int(n), rest) for n, rest in ROUND.findall(text)]


def console_size(console_log):
    return console_log.stat().st_size if console_log.exists() else 0


def wait_for_round(console_log, pattern, offset=0, timeout=300, count=1):
    """The text of the ``count``-th probe line after ``offset`` matching ``pattern`` (a regex)."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    found = []
    while time.monotonic() < deadline:
        found = [text for _n, text in rounds_after(console_log, offset) if regex.search(text)]
        if len(found) >= count:
            return found[count - 1]
        time.sleep(1)
    tail = rounds_after(console_log, offset)[-8:]
    raise AssertionError("no probe line matching %r (%d wanted, %d seen) within %ss; last rounds: %s"
                         % (pattern, count, len(found), timeout, tail))


@contextlib.contextmanager
def seen_server(enter, address, port):
    """The HTTP server answering ``seen <client>``, in a namespace; yields its pid, stops it by that pid."""
    with _server(enter([PYTHON, "-c", SEEN_SERVER, address, str(port)]), "listening") as pid:
        yield pid


@contextlib.contextmanager
def dns_server(enter, address, name, answer):
    """A dnsmasq of the test's on ``address`` answering ``name`` with ``answer`` (nothing else)."""
    with tempfile.TemporaryDirectory(prefix="nl-dns-") as workdir:
        Path(workdir).chmod(0o755)
        argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=", "--no-resolv", "--no-hosts", "--bind-interfaces",
                "--listen-address=%s" % address, "--except-interface=lo", "--address=/%s/%s" % (name, answer),
                "--pid-file=%s/dnsmasq.pid" % workdir, "--log-facility=-"]
        with _server(enter(argv), None) as pid:
            yield pid


@contextlib.contextmanager
def _server(argv, ready_line):
    """``ready_line``: what the server prints once it listens (None: it prints nothing we read)."""
    output = subprocess.PIPE if ready_line is not None else subprocess.DEVNULL
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, text=True)
    try:
        if ready_line is not None and process.stdout.readline().strip() != ready_line:
            process.wait(timeout=10)
            raise RuntimeError("%s did not start: %s" % (argv[0], process.stdout.read()))
        if ready_line is None:
            time.sleep(1)
            if process.poll() is not None:
                raise RuntimeError("%s exited with %d" % (argv[0], process.returncode))
        yield process.pid
    finally:
        if process.poll() is None:
            process.terminate()  # by its pid: the enter commands exec, so it is the server itself
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout:
            process.stdout.close()
