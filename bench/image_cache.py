#!/usr/bin/env python3
"""Benchmark: 20 instance disks from one image, copy-on-write on a warm _base cache against
20 full copies of the same image.

    .venv/bin/python bench/image_cache.py [--count 20] [--image DIR] [--fill-mib 128] [--work DIR]

Runs twice: on the test guest image (32 MiB virtual, about 0.3 MiB of data), and on a
synthetic qcow2 image holding --fill-mib MiB of random data (0 skips it), where the cost of
full copies shows.

Rows (each in a fresh directory on the same filesystem):
  overlays, library     image_cache's service, one batch call, warm cache (qcow2 overlays on _base)
  overlays, ansible     the same through `ansible -m novalite.compute.image_cache` (one module call)
  cp --sparse=always    Nova's Raw backend: a copy of the raw base per instance
  qemu-img convert      no cache: each instance converts the qcow2 image to raw itself
  cp --sparse=never     a full copy that does not keep holes (what the disk costs unsparsed)
Disk use is allocated blocks (st_blocks * 512, summed) and `du -sk`. Prints a table and writes
bench/results/image_cache.json (git-ignored).
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.novalite.compute.plugins.module_utils.image.service import (  # noqa: E402
    ImageCacheRequest, run)

IMAGE_NAME = "novalite-test-image"
TOOLS = ("qemu-img", "prlimit", "cp", "e2label", "e2fsck", "resize2fs")


def run_command(args, environ_update=None, **_kwargs):
    result = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, **(environ_update or {})))
    return result.returncode, result.stdout, result.stderr


def params(instances_path, catalog, names, image=IMAGE_NAME):
    return dict(instances_path=str(instances_path), catalog=str(catalog), images=None,
                instances=[{"name": n, "image_id": image, "kernel_id": "", "ramdisk_id": "", "root_gb": 0}
                           for n in names],
                state="present", cache_cleanup=False, original_minimum_age=86400, resized_minimum_age=3600,
                facts_path=None, lock_timeout=600.0, download_timeout=60.0, use_proxy=False)


def disk_use(paths):
    allocated = sum(os.stat(p).st_blocks * 512 for p in paths)
    du = subprocess.run(["du", "-sck"] + [str(p) for p in paths], capture_output=True, text=True, check=True)
    return allocated, int(du.stdout.splitlines()[-1].split()[0])


def timed(action):
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def warm_cache(root, catalog, tools, image):
    """Fetch the base once (the cache is warm for every overlay row), then drop the instance."""
    run(ImageCacheRequest(params(root, catalog, ["instance-warmup"], image)), run_command, tools)
    shutil.rmtree(root / "instance-warmup")


def bench_overlays_library(work, catalog, tools, count, image):
    root = work / "library"
    warm_cache(root, catalog, tools, image)
    names = ["instance-%08x" % i for i in range(1, count + 1)]
    seconds = timed(lambda: run(ImageCacheRequest(params(root, catalog, names, image)), run_command, tools))
    return seconds, [root / n / "disk" for n in names], root / "_base"


def bench_overlays_ansible(work, catalog, tools, count, image):
    root = work / "ansible"
    warm_cache(root, catalog, tools, image)
    names = ["instance-%08x" % i for i in range(1, count + 1)]
    args = json.dumps({k: v for k, v in params(root, catalog, names, image).items() if v is not None})
    command = [str(REPO / ".venv" / "bin" / "ansible"), "localhost", "-c", "local", "-m",
               "novalite.compute.image_cache", "-a", args, "-e", "ansible_python_interpreter=/usr/bin/python3"]
    seconds = timed(lambda: subprocess.run(command, cwd=REPO, check=True, capture_output=True))
    return seconds, [root / n / "disk" for n in names], root / "_base"


def bench_copies(work, source, count, copy):
    root = work / copy[0].replace(" ", "-")
    root.mkdir()
    targets = [root / ("disk-%02d" % i) for i in range(count)]
    seconds = timed(lambda: [subprocess.run(copy[1](source, t), check=True) for t in targets])
    return seconds, targets, None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--image", default=os.environ.get("NOVALITE_IMAGE_DIR", "/var/tmp/novalite-images"))
    parser.add_argument("--fill-mib", type=int, default=128, help="data in the synthetic image (0: skip it)")
    parser.add_argument("--work", default="/var/tmp", help="where the scratch directory goes (a real disk)")
    args = parser.parse_args(argv)
    image_dir = Path(args.image)
    tools = {name: shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin") for name in TOOLS}
    work = Path(tempfile.mkdtemp(prefix="nl-bench-image-cache-", dir=args.work))
    results = {"count": args.count, "images": []}
    try:
        cases = [(IMAGE_NAME, image_dir / "catalog.yml", image_dir / "disk.qcow2")]
        if args.fill_mib:
            cases.append(synthetic_image(work, args.fill_mib))
        for name, catalog, qcow2 in cases:
            scratch = work / name
            scratch.mkdir()
            rows = measure(scratch, catalog, qcow2, tools, args.count, name)
            results["images"].append({"image": name, "virtual_bytes": rows[-1]["apparent_bytes_per_disk"],
                                      "rows": rows})
            report(name, rows, args.count)
            shutil.rmtree(scratch)
    finally:
        shutil.rmtree(work)
    path = REPO / "bench" / "results" / "image_cache.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print("written: %s" % path)


def synthetic_image(work, fill_mib):
    """A qcow2 image full of random data, and a JSON catalog naming it."""
    raw, qcow2 = work / "synthetic.raw", work / "synthetic.qcow2"
    with open(raw, "wb") as handle:
        for _ in range(fill_mib):
            handle.write(os.urandom(1024 * 1024))
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)], check=True)
    raw.unlink()
    data = qcow2.read_bytes()
    name = "synthetic-%dmib" % fill_mib
    catalog = work / "synthetic-catalog.json"
    catalog.write_text(json.dumps([{"id": "5e000000-0000-4000-8000-%012d" % fill_mib, "name": name,
                                    "status": "active", "disk_format": "qcow2", "size": len(data),
                                    "checksum": hashlib.md5(data).hexdigest(), "location": str(qcow2)}]))
    return name, catalog, qcow2


def measure(work, catalog, qcow2, tools, count, image):
    rows = []
    for label, bench in (("overlays, library", bench_overlays_library), ("overlays, ansible", bench_overlays_ansible)):
        seconds, disks, base_dir = bench(work, catalog, tools, count, image)
        rows.append(row(label, seconds, disks, base_dir))
    raw_base = next((work / "library" / "_base").iterdir())
    copies = (("cp --sparse=always", lambda s, t: ["cp", "--sparse=always", str(s), str(t)], raw_base),
              ("qemu-img convert", lambda s, t: ["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(s), str(t)],
               qcow2),
              ("cp --sparse=never", lambda s, t: ["cp", "--sparse=never", str(s), str(t)], raw_base))
    for label, make, source in copies:
        seconds, disks, _ = bench_copies(work, source, count, (label, make))
        rows.append(row(label, seconds, disks, None))
    return rows


def row(label, seconds, disks, base_dir):
    allocated, du_kib = disk_use(disks)
    base = disk_use(list(base_dir.iterdir()))[0] if base_dir else 0
    return {"method": label, "seconds": round(seconds, 3), "ms_per_disk": round(1000 * seconds / len(disks), 1),
            "allocated_bytes": allocated, "du_kib": du_kib, "shared_base_allocated_bytes": base,
            "apparent_bytes_per_disk": os.stat(disks[0]).st_size}


def report(image, rows, count):
    columns = ("method", "seconds", "ms/disk", "allocated", "du KiB", "+ shared base")
    header = "%-20s %9s %10s %14s %10s %16s" % columns
    print("\n%d instance disks from %s (%d MiB virtual)\n%s"
          % (count, image, rows[-1]["apparent_bytes_per_disk"] // 2 ** 20, header))
    for r in rows:
        print("%-20s %9.3f %10.1f %14d %10d %16d" % (r["method"], r["seconds"], r["ms_per_disk"],
                                                     r["allocated_bytes"], r["du_kib"],
                                                     r["shared_base_allocated_bytes"]))


if __name__ == "__main__":
    main()
