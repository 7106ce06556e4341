"""`python -m appliance.prompts DIR [LANGUAGE ...]`: make the missing built-in prompts in DIR.

The core runs this as a child process (speech.make_builtin_prompts_apart) and logs its lines.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from appliance.prompts.catalogue import LANGUAGES
from appliance.prompts.speech import CHILD_LOG_FORMAT, ensure_builtin_prompts


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m appliance.prompts DIR [LANGUAGE ...]", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format=CHILD_LOG_FORMAT, stream=sys.stderr)
    ensure_builtin_prompts(Path(argv[0]), tuple(argv[1:]) or LANGUAGES)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
