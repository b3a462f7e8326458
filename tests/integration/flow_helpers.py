"""Reading back what the hosts hold after the collection's playbooks ran on a sandbox."""

from sandbox_ansible import host_facts


def instances_named(sandbox, prefix):
    """{display_name: record} of every instance on every host whose display name starts with ``prefix``."""
    found = {}
    for host in sandbox.hosts:
        for record in host_facts(host)["instances"].values():
            if record["display_name"].startswith(prefix):
                found[record["display_name"]] = record
    return found


def fixed_ip(record):
    return record["network_info"][0]["network"]["subnets"][0]["ips"][0]["address"]


def console_log(sandbox, record):
    return sandbox.host(record["host"]).instance_dir(record["name"]) / "console.log"


def host_leftovers(host):
    """What a host holds for instances: records, fixed IPs, domains, instance filters, dirs, hosts lines."""
    facts = host_facts(host)
    domains = host.run(["virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name"]).stdout.split()
    filters = [line.split()[1] for line in host.run(["virsh", "-q", "-c", "qemu:///system", "nwfilter-list"]).stdout
               .splitlines() if "nova-instance-" in line]
    instance_dirs = [d for d in host.run(["ls", "/var/lib/novalite/instances"], check=False).stdout.split()
                     if d.startswith("instance-")]
    hosts_lines = host.run(["sh", "-c", "cat /var/lib/novalite/networks/*.conf 2>/dev/null"], check=False).stdout
    return {"records": sorted(facts["instances"]), "fixed_ips": sorted(facts["fixed_ips"]), "domains": domains,
            "filters": filters, "instance_dirs": instance_dirs, "hosts_lines": hosts_lines.split()}
