"""The first-run set-up code: who may create the box's first admin.

Before an admin exists, the web page's /setup creates one. Without a
secret, whoever on the office LAN posts first would own the box. The code
is made at the core's first start (while the box has no web users), kept
0600 in state/setup_code, and printed on the console of `callbox core` and
`callbox web` and by `callbox check`: places only the owner (who has the
box's console or a root shell) can read. It is good for one admin: the
core deletes it as the first admin is created, and at any start when an
admin already exists.

12 characters from an alphabet without look-alikes (no 0/O, 1/I/L, U):
about 59 bits, typed as three groups of four; case and dashes do not matter.
"""

from __future__ import annotations

import hmac
import secrets
import sys
from pathlib import Path
from typing import TextIO

from appliance.store.atomic import atomic_write_bytes, fsync_dir

CODE_FILE = Path("state") / "setup_code"
ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
LENGTH = 12


def code_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / CODE_FILE


def generate() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, LENGTH, 4))


def normalise(text: str) -> str:
    """What a person typed, as the code is compared: upper case, no dashes or spaces."""
    return "".join(c for c in str(text).upper() if c.isalnum())


def read(data_dir: str | Path) -> str | None:
    """The current code, or None when there is none (an admin exists, or not made yet)."""
    try:
        code = code_path(data_dir).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return code or None


def ensure(data_dir: str | Path) -> tuple[str, bool]:
    """The code, made now if there is none: (code, whether it was just made). Only the core calls this."""
    code = read(data_dir)
    if code is not None:
        return code, False
    code = generate()
    path = code_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, code.encode("ascii"), mode=0o600)
    return code, True


def matches(data_dir: str | Path, supplied: str) -> bool:
    """Whether `supplied` is the current code (compared in constant time); False when there is none."""
    code = read(data_dir)
    if code is None:
        return False
    return hmac.compare_digest(normalise(code).encode(), normalise(supplied).encode()[:64])


def discard(data_dir: str | Path) -> None:
    """The code is used up (an admin exists): remove it for good."""
    path = code_path(data_dir)
    try:
        path.unlink()
    except FileNotFoundError:
        return
    fsync_dir(path.parent)


def announce(code: str, out: TextIO | None = None, where: str = "the web page's /setup") -> None:
    """Print the code for the person at the console (not into the log the web page shows)."""
    out = out or sys.stderr
    print(f"\ncallbox: no admin yet. Open {where} and enter the set-up code\n"
          f"callbox:     {code}\n"
          "callbox: it creates one admin, once. `callbox check` shows it again.\n",
          file=out, flush=True)
