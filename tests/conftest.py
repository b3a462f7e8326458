"""Make this checkout importable as ``ansible_collections.novalite.compute``."""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS_ROOT = REPO_ROOT / ".collections"


def _link_checkout_as_collection():
    link = COLLECTIONS_ROOT / "ansible_collections" / "novalite" / "compute"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("../../..")


_link_checkout_as_collection()
sys.path.insert(0, str(COLLECTIONS_ROOT))
