# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a guest learns about itself: Nova's ``InstanceMetadata`` and its metadata server.

``nova/api/metadata/base.py`` built two trees from an instance: the EC2 one (``meta-data/``,
``user-data``, dated versions 1.0 to 2009-04-04) and the OpenStack one (``meta_data.json``,
``user_data``, ``vendor_data.json``, versions 2012-08-10 to 2013-10-17); ``lookup`` walked them
and ``ec2_md_print`` rendered a level as text. The config drive (``nova/virt/configdrive.py``)
carried the same files. ``nova/api/metadata/handler.py`` served them over HTTP, finding the
instance by the request's source address (its fixed IP) and answering 404 to anything else.

This file is both: ``config_drive`` imports the trees, and ``nova_network`` writes this very
file to the host (``<networks_path>/nova-<bridge>.metadata.py``) and runs it with the host's
Python as the network's metadata server (``main``). So it needs the standard library only.

The server reads on every request the host's facts document (the instance record, its fixed
IP, its floating IPs, the network's domain) and the instance's secrets, root-only files in its
directory that the config drive step writes (``user_data``, ``admin_password``). A request is
answered from the records of the instance holding the source address on this server's network
only, so a guest never sees another guest's data (libvirt's nwfilter stops it from using
another address). The administrator password is served where Nova's config drive carried it,
``admin_pass`` of the OpenStack ``meta_data.json``, and nowhere else; the access log has the
client, the path and the status, never a header or a body.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import http.server
import json
import os
import posixpath
import signal
import socketserver
import sys

# nova/api/metadata/base.py
VERSIONS = ["1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01",
            "2008-09-01", "2009-04-04"]
OPENSTACK_VERSIONS = ["2012-08-10", "2013-04-04", "2013-10-17"]
GRIZZLY = "2013-04-04"  # random_seed from here on
LATEST = "latest"
MD_JSON_NAME, UD_NAME, VD_JSON_NAME, NW_JSON_NAME = (
    "meta_data.json", "user_data", "vendor_data.json", "network_data.json")
CONFIG_DRIVE_EC2_VERSIONS = ["2009-04-04", LATEST]  # Nova's config_drive_skip_versions left these
METADATA_ADDRESS = "169.254.169.254"
DEFAULT_PORT = 8775  # Nova's metadata_listen_port
DEFAULT_DHCP_DOMAIN = "novalocal"  # definition.DEFAULT_DHCP_DOMAIN again: this file also runs alone, importing nothing
KEY_NAME = "default"  # records keep the key, not its name
ROOT_DEVICE = "vda"  # libvirt_domain's root disk
# The instance's secrets, in its directory, root-only; written by the config drive step.
USER_DATA_FILE = "user_data"
ADMIN_PASSWORD_FILE = "admin_password"
SECRET_MODE = 0o600
REQUEST_TIMEOUT = 10.0  # seconds a guest may take to send its request


class NotFound(Exception):
    """No such path in the tree (Nova's InvalidMetadataPath / InvalidMetadataVersion)."""


# --- the trees ---------------------------------------------------------------------------------

def hostname_of(record, dhcp_domain=None):
    """``<hostname>.<dhcp_domain>``, as Nova's ``_get_hostname``; the domain is the network's."""
    domain = dhcp_domain or _network_meta(record).get("dhcp_domain") or DEFAULT_DHCP_DOMAIN
    return "%s.%s" % (record["hostname"], domain)


def _network_meta(record):
    for vif in record.get("network_info") or []:
        return vif.get("network", {}).get("meta") or {}
    return {}


def addresses_of(record):
    """(fixed IPs, floating IPs) of the record's network_info, in order (Nova's ip_info)."""
    fixed, floating = [], []
    for vif in record.get("network_info") or []:
        for subnet in vif.get("network", {}).get("subnets", []):
            for ip in subnet.get("ips", []):
                if ip.get("address"):
                    fixed.append(ip["address"])
                floating += [f["address"] for f in ip.get("floating_ips", []) if f.get("address")]
    return fixed, floating


def ec2_id(ref, prefix):
    """An EC2 id for a Glance UUID: its first 32 bits (Nova kept a table of its own for them)."""
    if not ref:
        return None
    digits = str(ref).replace("-", "")[:8]
    try:
        return "%s-%08x" % (prefix, int(digits, 16))
    except ValueError:
        return "%s-%08x" % (prefix, 0)


def openstack_meta_data(record, version, hostname, admin_password=None, injected_files=(), random_seed=None):
    """meta_data.json of OpenStack ``version``, as Nova's ``_metadata_as_json`` built it.

    ``admin_password`` is given only for the config drive and for the metadata server's
    meta_data.json (Nova's config drive carried it as ``admin_pass``).
    """
    data = {"uuid": record["uuid"]}
    if record.get("metadata"):
        data["meta"] = dict(record["metadata"])
    if injected_files:
        data["files"] = [{"path": f["path"], "content_path": "/content/%04d" % i} for i, f in enumerate(injected_files)]
    if admin_password:
        data["admin_pass"] = admin_password
    if record.get("key_data"):
        data["public_keys"] = {KEY_NAME: record["key_data"]}
    data.update(hostname=hostname, name=record.get("display_name") or record["hostname"],
                launch_index=record.get("launch_index") or 0,
                availability_zone=record.get("availability_zone") or "nova")
    if version == LATEST or version >= GRIZZLY:
        data["random_seed"] = random_seed or base64.b64encode(os.urandom(512)).decode("ascii")
    return data


def network_data(network_info):
    """network_data.json: one link and one DHCP network per VIF (FlatDHCP), the DNS servers as services."""
    links, networks, services = [], [], []
    for index, vif in enumerate(network_info or []):
        link_id = "tap%s" % vif["id"][:11]
        links.append({"id": link_id, "type": "bridge", "ethernet_mac_address": vif["address"], "mtu": 1500,
                      "vif_id": vif["id"]})
        networks.append({"id": "network%d" % index, "type": "ipv4_dhcp", "link": link_id,
                         "network_id": vif["network"]["id"]})
        for subnet in vif["network"].get("subnets", []):
            for dns in subnet.get("dns", []):
                service = {"type": "dns", "address": dns["address"]}
                if service not in services:
                    services.append(service)
    return {"links": links, "networks": networks, "services": services}


def ec2_meta_data(record, version, hostname, fixed_ip=None, floating_ip=None):
    """The EC2 ``meta-data`` tree of ``version`` (Nova's ``get_ec2_metadata``), never a password."""
    if version == LATEST:
        version = VERSIONS[-1]
    if version not in VERSIONS:
        raise NotFound(version)
    fixed, floating = addresses_of(record)
    data = {
        "ami-id": ec2_id(record.get("image_ref"), "ami"),
        "ami-launch-index": record.get("launch_index") or 0,
        "ami-manifest-path": "FIXME",
        "instance-id": "i-%08x" % int(record.get("id") or 0),
        "hostname": hostname,
        "local-ipv4": fixed_ip or (fixed[0] if fixed else ""),
        "reservation-id": record.get("reservation_id") or "",
        "security-groups": list(record.get("security_groups") or ["default"]),
    }
    if record.get("key_data"):  # rendered as "0=<name>" one level up, a dict below
        data["public-keys"] = {"0": {"_name": "0=" + KEY_NAME, "openssh-key": record["key_data"]}}
    if version >= "2007-01-19":
        data.update({"local-hostname": hostname, "public-hostname": hostname,
                     "public-ipv4": floating_ip or (floating[0] if floating else "")})
    if version >= "2007-08-29":
        data["instance-type"] = (record.get("flavor") or {}).get("name") or ""
    if version >= "2007-12-15":
        data["block-device-mapping"] = {"ami": ROOT_DEVICE, "root": "/dev/" + ROOT_DEVICE}
        for field, prefix, key in (("kernel_id", "aki", "kernel-id"), ("ramdisk_id", "ari", "ramdisk-id")):
            if record.get(field):
                data[key] = ec2_id(record[field], prefix)
    if version >= "2008-02-01":
        data["placement"] = {"availability-zone": record.get("availability_zone") or "nova"}
    if version >= "2008-09-01":
        data["instance-action"] = "none"
    return data


class InstanceMetadata:
    """Nova's ``InstanceMetadata`` for one instance: ``lookup(path)`` of the EC2 and OpenStack trees."""

    def __init__(self, record, hostname, user_data=None, admin_password=None, fixed_ip=None, floating_ip=None,
                 injected_files=()):
        self.record = record
        self.hostname = hostname
        self.user_data = user_data
        self.admin_password = admin_password
        self.fixed_ip = fixed_ip
        self.floating_ip = floating_ip
        self.injected_files = list(injected_files)

    def ec2(self, version):
        data = {"meta-data": ec2_meta_data(self.record, version, self.hostname, self.fixed_ip, self.floating_ip)}
        if self.user_data is not None:
            data["user-data"] = self.user_data
        return data

    def openstack(self, version):
        if version != LATEST and version not in OPENSTACK_VERSIONS:
            raise NotFound(version)
        meta_data = openstack_meta_data(self.record, version, self.hostname, self.admin_password, self.injected_files)
        data = {MD_JSON_NAME: json.dumps(meta_data),
                VD_JSON_NAME: json.dumps({}),
                NW_JSON_NAME: json.dumps(network_data(self.record.get("network_info")))}
        if self.user_data is not None:
            data[UD_NAME] = self.user_data
        return data

    def lookup(self, path):
        """The data at ``path`` (a dict is a level, listed by ``ec2_md_print``); NotFound if none."""
        tokens = posixpath.normpath("/" + path.lstrip("/")).split("/")[1:]
        if tokens[0] not in ("ec2", "openstack"):
            tokens = ["ec2"] + ([] if tokens[0] == "" else tokens)
        if len(tokens) == 1:
            return (OPENSTACK_VERSIONS if tokens[0] == "openstack" else VERSIONS) + [LATEST]
        tree = self.openstack(tokens[1]) if tokens[0] == "openstack" else self.ec2(tokens[1])
        return find_path_in_tree(tree, tokens[2:])

    def config_drive_files(self):
        """(path, text) of every file of a config drive (Nova's ``metadata_for_config_drive``)."""
        for version in CONFIG_DRIVE_EC2_VERSIONS:
            data = self.ec2(version)
            if "user-data" in data:
                yield "ec2/%s/user-data" % version, data["user-data"]
            meta = data["meta-data"]
            if "public-keys" in meta:
                meta["public-keys"]["0"].pop("_name", None)
            yield "ec2/%s/meta-data.json" % version, json.dumps(meta)
        for version in OPENSTACK_VERSIONS + [LATEST]:
            for name, text in sorted(self.openstack(version).items()):
                yield "openstack/%s/%s" % (version, name), text
        for index, injected in enumerate(self.injected_files):
            yield "openstack/content/%04d" % index, injected["contents"]


def find_path_in_tree(data, tokens):
    for index, token in enumerate(tokens):
        if isinstance(data, dict) and token in data:
            data = data[token]
        else:
            raise NotFound("/".join(tokens[:index + 1]))
    return data


def ec2_md_print(data):
    """A level as text, as Nova rendered it: keys (``key/`` for a level), one per line."""
    if isinstance(data, dict):
        lines = []
        for key in sorted(data):
            if key == "_name":
                continue
            value = data[key]
            if isinstance(value, dict):
                lines.append(str(value["_name"]) if "_name" in value else key + "/")
            else:
                lines.append(key)
        return "\n".join(lines)
    if isinstance(data, list):
        return "\n".join(str(item) for item in data)
    return str(data)


# --- who is asking: the host's records -----------------------------------------------------------

def read_secret(instances_path, name, file_name):
    """A secret of the instance's directory, or None."""
    try:
        with open(os.path.join(instances_path, name, file_name), encoding="utf-8") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return None


def metadata_for_address(document, address, network_id, instances_path):
    """The InstanceMetadata of the instance holding fixed IP ``address`` on ``network_id``, or None."""
    fixed = (document.get("fixed_ips") or {}).get(address)
    if not fixed or fixed.get("network_id") != network_id:
        return None
    record = (document.get("instances") or {}).get(fixed.get("instance_uuid"))
    if not record or not record.get("name") or not record.get("hostname"):
        return None
    network = (document.get("networks") or {}).get(network_id) or {}
    floating = sorted(a["address"] for a in (document.get("floating_associations") or {}).values()
                      if a.get("fixed_ip") == address)
    name = record["name"]
    if "/" in name or name.startswith("."):
        return None
    return InstanceMetadata(
        record, hostname_of(record, network.get("dhcp_domain")),
        user_data=read_secret(instances_path, name, USER_DATA_FILE),
        admin_password=read_secret(instances_path, name, ADMIN_PASSWORD_FILE),
        fixed_ip=address, floating_ip=floating[0] if floating else None)


def read_document(path):
    """The facts document (replaced whole by its writers, so it is read without a lock)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (FileNotFoundError, ValueError):
        return {}


# --- the server (nova/api/metadata/handler.py) --------------------------------------------------

class MetadataHandler(http.server.BaseHTTPRequestHandler):
    server_version = "novalite-metadata"
    sys_version = ""
    timeout = REQUEST_TIMEOUT

    def do_GET(self):  # noqa: N802 (http.server's name)
        status, body, content_type = self.answer(self.path.split("?", 1)[0])
        payload = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def answer(self, path):
        """(status, body, content type) for ``path`` asked from this request's source address."""
        config = self.server.config
        metadata = metadata_for_address(read_document(config.facts), self.client_address[0], config.network,
                                        config.instances_path)
        if metadata is None:  # not an instance of this network on this host: nothing at all, not even "/"
            return 404, "404 Not Found\n", "text/plain"
        if posixpath.normpath("/" + path.lstrip("/")) == "/":
            return 200, ec2_md_print(VERSIONS + [LATEST]), "text/plain"
        try:
            data = metadata.lookup(path)
        except NotFound:
            return 404, "404 Not Found\n", "text/plain"
        content_type = "application/json" if path.endswith(".json") else "text/plain"
        return 200, ec2_md_print(data), content_type

    def log_request(self, code="-", size="-"):
        # the client, the path and the status only: never a header, a query or a body
        self.log_message('"%s %s" %s', self.command, (self.path or "").split("?", 1)[0][:200], code)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = "%s %s %s\n" % (stamp, self.client_address[0], format % args)
        log = self.server.log
        if log:
            log.write(line.replace("\r", "").replace("\n", " ").rstrip() + "\n")
            log.flush()


class MetadataServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, config, log=None):
        self.config = config
        self.log = log
        super().__init__((config.listen, config.port), MetadataHandler)


def parse_args(argv):
    parser = argparse.ArgumentParser(description="novalite.compute metadata server for one network")
    parser.add_argument("--listen", required=True, help="this host's DHCP address on the network")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--network", required=True, help="the network's uuid")
    parser.add_argument("--facts", required=True, help="the host's facts document")
    parser.add_argument("--instances-path", required=True)
    parser.add_argument("--pid-file", required=True)
    parser.add_argument("--log-file", required=True)
    parser.add_argument("--foreground", action="store_true")
    return parser.parse_args(argv)


def main(argv=None):
    """Bind, then (unless --foreground) go to the background; exit 0 once the pid file names the server."""
    config = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        server = MetadataServer(config)
    except OSError as exc:
        sys.stderr.write("cannot listen on %s:%d: %s\n" % (config.listen, config.port, exc))
        return 1
    if not config.foreground:
        _daemonize(config.pid_file)
    else:
        _write_pid(config.pid_file)
    old_umask = os.umask(0o077)
    server.log = open(config.log_file, "a", encoding="utf-8")  # noqa: SIM115 (open for the server's life)
    os.umask(old_umask)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))  # pylint: disable=ansible-bad-function
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def _daemonize(pid_file):
    """Double fork; the first process returns to its caller (the module) once the pid file is written."""
    read_end, write_end = os.pipe()
    if os.fork():  # the caller: wait for the server's word
        os.close(write_end)
        with os.fdopen(read_end) as ready:
            word = ready.read()
        os._exit(0 if word == "ok" else 1)  # pylint: disable=protected-access
    os.close(read_end)
    os.setsid()
    if os.fork():
        os._exit(0)  # pylint: disable=protected-access
    os.chdir("/")
    _write_pid(pid_file)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the module's pipes must close, or run_command would wait for us
        os.dup2(null, fd)
    os.close(null)
    os.write(write_end, b"ok")
    os.close(write_end)


def _write_pid(pid_file):
    temporary = pid_file + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write("%d\n" % os.getpid())
    os.rename(temporary, pid_file)


if __name__ == "__main__":
    sys.exit(main())  # pylint: disable=ansible-bad-function  # a daemon the module starts, not a module
