"""Build the agent as one zipapp (`python3 agent.pyz serve`), byte-for-byte reproducible so the coordinator can push
it content-addressed (same sources -> same sha256)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

ENTRY = "import sys\nfrom agent.__main__ import main\nsys.exit(main())\n"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries carry no build time, so the archive hash depends on content only
SHEBANG = b"#!/usr/bin/env python3\n"


def sources() -> list:
    """The agent's modules, sorted (the build script itself is not needed on a host)."""
    here = Path(__file__).resolve().parent
    return sorted(p for p in here.glob("*.py") if p.name != "build.py")


def build_zipapp(dest: Path) -> str:
    """Write the zipapp to `dest` (a directory gets `dest/agent.pyz`) and return its sha256 in hex."""
    dest = Path(dest)
    target = dest / "agent.pyz" if dest.is_dir() else dest
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "wb") as raw:
        raw.write(SHEBANG)
        with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in [("__main__.py", ENTRY.encode())] + [
                (f"agent/{p.name}", p.read_bytes()) for p in sources()
            ]:
                info = zipfile.ZipInfo(name, FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
    tmp.chmod(0o755)
    tmp.replace(target)
    return hashlib.sha256(target.read_bytes()).hexdigest()


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    print(build_zipapp(out))
