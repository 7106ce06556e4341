"""`python -m appliance.prompts [--with-parent] DIR [LANGUAGE ...]`: make the missing built-in prompts in DIR.

The core runs this as a child process (speech.make_builtin_prompts_apart) and logs its lines. With
--with-parent it stops when its stdin closes: the core holds the other end, so the child ends with it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

from appliance.prompts.catalogue import LANGUAGES
from appliance.prompts.speech import CHILD_LOG_FORMAT, ensure_builtin_prompts


def _end_with_parent() -> None:
    # The raw descriptor, not sys.stdin: a daemon thread blocked in a buffered read would abort the
    # interpreter's own exit. os.read returns b"" when the parent's end closes: the core has gone.
    while os.read(0, 4096):
        pass
    os._exit(0)  # each prompt is written atomically: a cut leaves it whole or absent


def main(argv: list[str]) -> int:
    if argv[:1] == ["--with-parent"]:
        argv = argv[1:]
        threading.Thread(target=_end_with_parent, name="parent", daemon=True).start()
    if not argv:
        print("usage: python -m appliance.prompts [--with-parent] DIR [LANGUAGE ...]", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format=CHILD_LOG_FORMAT, stream=sys.stderr)
    ensure_builtin_prompts(Path(argv[0]), tuple(argv[1:]) or LANGUAGES)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
