#!/usr/bin/env python3
"""A TCP server and client for tests that prove a path through the sandbox's networks.

Run it inside a namespace with the host's /usr/bin/python3 (standard library only):

    tcp_probe.py serve ADDRESS PORT [PORT...]   print "listening" once bound, then answer every
                                                connection with "HOSTNAME PORT DATA" until stopped
    tcp_probe.py connect ADDRESS PORT [--timeout S]
                                                send "probe", print the answer; exit 1 if no answer

e.g. a server in the switch namespace on the internet address (``Sandbox.switch_command``), or
in one host on its management address, and the client in another host. From a test:

    with probe_server(sandbox.switch_command, sandbox.internet_address, [8080]):
        host.run(probe_command(sandbox.internet_address, 8080)).stdout   # "nl-...-switch 8080 probe"

``probe_server`` stops the server by its pid when the block ends.
"""

import argparse
import contextlib
import selectors
import socket
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).resolve()
PYTHON = "/usr/bin/python3"  # the hosts' interpreter; this file needs nothing beyond the standard library


@contextlib.contextmanager
def probe_server(enter, address, ports):
    """Run ``serve`` inside a namespace: ``enter`` turns an argv into one that runs there (e.g.
    ``Host.enter_command``, ``Sandbox.switch_command``). Yields the server's pid once it listens."""
    process = subprocess.Popen(enter([PYTHON, str(PROBE), "serve", address] + [str(p) for p in ports]),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if process.stdout.readline().strip() != "listening":
            process.wait(timeout=10)
            raise RuntimeError("probe server on %s did not start: %s" % (address, process.stderr.read()))
        yield process.pid
    finally:
        if process.poll() is None:
            process.terminate()  # by its pid: enter commands exec, so it is the server itself
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()
        process.stderr.close()


def probe_command(address, port, timeout=3.0):
    """The argv of a client that connects to address:port and prints the answer."""
    return [PYTHON, str(PROBE), "connect", address, str(port), "--timeout", str(timeout)]


def serve(address, ports):
    selector = selectors.DefaultSelector()
    for port in ports:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, port))
        listener.listen(16)
        selector.register(listener, selectors.EVENT_READ, port)
    print("listening", flush=True)
    name = socket.gethostname()
    while True:
        for key, _events in selector.select():
            conn, _peer = key.fileobj.accept()
            with conn:
                conn.settimeout(5)
                try:
                    data = conn.recv(1024).decode(errors="replace").strip()
                    conn.sendall(("%s %d %s\n" % (name, key.data, data)).encode())
                except OSError:
                    pass


def connect(address, port, timeout):
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(b"probe\n")
            answer = conn.recv(1024).decode(errors="replace").strip()
    except OSError as error:
        print("no answer from %s:%d: %s" % (address, port, error), file=sys.stderr)
        return 1
    print(answer)
    return 0 if answer else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    server = sub.add_parser("serve")
    server.add_argument("address")
    server.add_argument("ports", type=int, nargs="+")
    client = sub.add_parser("connect")
    client.add_argument("address")
    client.add_argument("port", type=int)
    client.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.address, args.ports)
        return 0
    return connect(args.address, args.port, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
