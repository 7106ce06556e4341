"""What a client's routing fields must look like, shared by trunks and routes."""

from __future__ import annotations

import re
from typing import Any

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


def is_whole_number(value: Any) -> bool:
    """An int, and not a bool (JSON true is no port number)."""
    return isinstance(value, int) and not isinstance(value, bool)
