"""The example network (10.1.0.0/16 on br100) and small factories shared by the network unit tests
(as fixtures: with --import-mode=importlib a conftest cannot be imported by the tests)."""

import json
import os
import random
import shutil
import signal

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NetworkRecord
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import AllocationRequest

EXAMPLE_NETWORK = {
    "uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
    "dns1": "8.8.4.4", "bridge": "br100", "bridge_interface": "eth0", "multi_host": True,
}


def instance_uuid(number):
    return "90844617-d71f-474f-9cdf-%012x" % number


@pytest.fixture
def network_params():
    return dict(EXAMPLE_NETWORK)


@pytest.fixture
def make_network():
    return lambda **changes: NetworkRecord.from_params(dict(EXAMPLE_NETWORK, **changes))


@pytest.fixture
def network(make_network):
    return make_network()


@pytest.fixture
def uuid_of():
    return instance_uuid


@pytest.fixture
def make_request():
    def make(number, host="compute1", **fields):
        return AllocationRequest(instance_uuid(number), "vm%d" % number, host,
                                 instance_name="instance-%08x" % number, **fields)
    return make


@pytest.fixture
def rng():
    return random.Random(42)


class FakeHost:
    """Just enough of a Linux host (ip, iptables, sysctl, dnsmasq, the metadata server's python, arping,
    conntrack, /proc) for the service's commands. ``lo`` is kept apart (its addresses in ``lo``)."""

    def __init__(self, proc_root):
        self.links = {"eth0": {"kind": "veth", "up": True, "master": None,
                               "addresses": [{"local": "192.168.96.80", "prefixlen": 24}],
                               "routes": [{"dst": "default", "gateway": "192.168.96.254", "flags": []}]}}
        self.tables = {"filter": {"INPUT": [], "FORWARD": [], "OUTPUT": []},
                       "nat": {"PREROUTING": [], "INPUT": [], "OUTPUT": [], "POSTROUTING": []}}
        self.ip_forward = "0"
        self.proc_root = proc_root
        self.next_pid = 4000
        self.commands = []
        self.signals = []
        self.restores = []  # every iptables-restore input
        self.fail_on = None  # a program name whose next run fails
        self.lo = []  # addresses on lo
        self.arps = []
        self.flushed = []  # conntrack -D -r

    @property
    def iptables(self):
        """The filter table: {chain: [rule body]}."""
        return self.tables["filter"]

    # -- run_command ---------------------------------------------------------------------------
    def run_command(self, args, data=None, **_kwargs):
        self.commands.append(list(args))
        if self.fail_on and args[0].endswith(self.fail_on):
            self.fail_on = None
            return 1, "", "%s: simulated failure" % args[0]
        handler = getattr(self, "_" + args[0].rsplit("/", 1)[-1].replace("-", "_"))
        return handler(args[1:], data)

    def _ip(self, args, data):
        if args[:2] == ["-batch", "-"]:
            for line in data.splitlines():
                self._ip_change(line.split())
            return 0, "", ""
        if "get" in args:  # ip -j -4 route get 8.8.8.8: the device with the default route, its address
            for name, link in self.links.items():
                if any(r["dst"] == "default" for r in link["routes"]):
                    source = next(a["local"] for a in link["addresses"] if a["local"].startswith("192.168."))
                    return 0, json.dumps([{"dst": args[-1], "dev": name, "prefsrc": source}]), ""
            return 2, "", "RTNETLINK answers: Network is unreachable"
        if "addr" in args and "dev" not in args:  # every device's addresses
            entries = [{"ifname": "lo", "addr_info": [dict(a, family="inet") for a in self.lo]}]
            entries += [{"ifname": n, "addr_info": [dict(a, family="inet") for a in link["addresses"]]}
                        for n, link in self.links.items()]
            return 0, json.dumps(entries), ""
        name = args[args.index("dev") + 1]
        if name == "lo":
            return 0, json.dumps([{"ifname": "lo", "addr_info": [dict(a, family="inet") for a in self.lo]}]), ""
        link = self.links.get(name)
        if link is None:
            return 1, "", 'Device "%s" does not exist.' % name
        if args[0] != "-j":
            return 0, "", ""
        if "link" in args:
            info = {"ifname": name, "flags": ["UP"] if link["up"] else [], "linkinfo": {"info_kind": link["kind"]}}
            if link["master"]:
                info["master"] = link["master"]
            return 0, json.dumps([info]), ""
        if "addr" in args:
            info = [dict(a, family="inet", scope="global") for a in link["addresses"]]
            return 0, json.dumps([{"ifname": name, "addr_info": info}]), ""
        return 0, json.dumps(link["routes"]), ""

    def _ip_change(self, words):
        kind, verb = words[0], words[1]
        if kind == "link" and verb == "add":
            self.links[words[2]] = {"kind": "bridge", "up": False, "master": None, "addresses": [], "routes": []}
        elif kind == "link" and verb == "del":
            del self.links[words[2]]
        elif kind == "link":
            link = self.links[words[2]]
            if words[3] == "up":
                link["up"] = True
            else:
                link["master"] = words[4] if words[3] == "master" else None
        elif kind == "addr":
            local, prefixlen = words[2].split("/")
            address = {"local": local, "prefixlen": int(prefixlen)}
            if words[3] == "brd":
                address["broadcast"] = words[4]
            addresses = self.lo if words[-1] == "lo" else self.links[words[-1]]["addresses"]
            addresses.append(address) if verb == "add" else addresses.remove(address)
        elif kind == "route":
            device = words[words.index("dev") + 1]
            route = {"dst": words[2], "gateway": words[4], "flags": []}
            routes = self.links[device]["routes"]
            routes.append(route) if verb == "add" else routes.remove(route)

    def _iptables_save(self, args, _data):
        table = args[args.index("-t") + 1]
        chains = self.tables[table]
        lines = ["*" + table] + [":%s %s [0:0]" % (c, "-" if c.islower() else "ACCEPT") for c in chains]
        lines += ["-A %s %s" % (c, r) for c, rules in chains.items() for r in rules]
        return 0, "\n".join(lines + ["COMMIT"]) + "\n", ""

    def _iptables_restore(self, _args, data):
        self.restores.append(data)
        chains = None
        for line in data.splitlines():
            if line.startswith("*"):
                chains = self.tables[line[1:]]
            elif line.startswith(":"):
                chains[line[1:].split()[0]] = []
            elif line[:2] in ("-A", "-I", "-D", "-F", "-X"):
                op, chain, rest = line[:2], line[3:].split(" ", 1)[0], line[3:].split(" ", 1)[-1]
                if op == "-A":
                    chains[chain].append(rest)
                elif op == "-I":
                    chains[chain].insert(0, rest.split(" ", 1)[1])
                elif op == "-D":
                    chains[chain].remove(rest)
                elif op == "-X":
                    del chains[chain]
        return 0, "", ""

    def _sysctl(self, args, _data):
        self.ip_forward = args[1].split("=")[1]
        return 0, "", ""

    def _dnsmasq(self, args, _data):
        return self._daemon("/usr/sbin/dnsmasq", "dnsmasq", args)

    def _python3(self, args, _data):
        """The metadata server: a process whose cmdline is python3 and its arguments, and its pid file."""
        return self._daemon("/usr/bin/python3", "python3", args)

    def _daemon(self, binary, comm, args):
        pid, self.next_pid = self.next_pid, self.next_pid + 1
        directory = os.path.join(self.proc_root, str(pid))
        os.makedirs(directory)
        with open(os.path.join(directory, "cmdline"), "w") as handle:
            handle.write("\0".join([binary] + list(args)) + "\0")
        with open(os.path.join(directory, "stat"), "w") as handle:
            handle.write("%d (%s) S 1" % (pid, comm))
        pid_file = next(a.split("=", 1)[1] for a in args if a.startswith("--pid-file="))
        with open(pid_file, "w") as handle:
            handle.write("%d\n" % pid)
        return 0, "", ""

    def _arping(self, args, _data):
        self.arps.append(args[-1])
        return 0, "", ""

    def _conntrack(self, args, _data):
        self.flushed.append(args[-1])
        return 1, "", "0 flow entries have been deleted."

    def processes(self, comm):
        """The pids of live fake processes named ``comm``."""
        found = []
        for pid in os.listdir(self.proc_root):
            with open(os.path.join(self.proc_root, pid, "stat")) as handle:
                if "(%s)" % comm in handle.read():
                    found.append(int(pid))
        return sorted(found)

    # -- the rest of HostTools -----------------------------------------------------------------
    def send_signal(self, pid, sig):
        self.signals.append((pid, sig))
        if sig in (signal.SIGTERM, signal.SIGKILL):
            shutil.rmtree(os.path.join(self.proc_root, str(pid)), ignore_errors=True)

    def kill_dnsmasq(self, pid):
        shutil.rmtree(os.path.join(self.proc_root, str(pid)))

    def read_file(self, path):
        assert path == "/proc/sys/net/ipv4/ip_forward"
        return self.ip_forward + "\n"


@pytest.fixture
def fake_host(tmp_path):
    proc_root = tmp_path / "proc"
    proc_root.mkdir()
    return FakeHost(str(proc_root))
