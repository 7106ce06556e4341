"""The last lines of the core's log, kept in memory for the web page's system page."""

from __future__ import annotations

import collections
import logging


class RecentLog(logging.Handler):
    """The last lines of the core's log, for the web page's system page."""

    def __init__(self, size: int = 1000):
        super().__init__(logging.INFO)
        self.lines: collections.deque[str] = collections.deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # logging must never take the box down
            pass


RECENT_LOG = RecentLog()
