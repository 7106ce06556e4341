"""A writer that never stops: the victim of test_kill.py.

Before each write it prints `do <kind> <key> <value>`, and `ack` once the
write has returned (so is acknowledged as durable). The killer then knows
exactly what must be in the store and which single write was in flight.
Run as `python -m tests.store.kill_writer DATA_DIR RUN_ID SEED`.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

from tinydb import Query

from appliance.store.db import Store

# Items inserted per run, so config.json (rewritten whole on every write)
# stays small while the same data directory survives hundreds of kills.
INSERTS_PER_RUN = 3
MONTHS = ("2026-09", "2026-10", "2026-11")


def say(line: str) -> None:
    # One write(2) per line: a kill never leaves half a line in the pipe.
    os.write(1, (line + "\n").encode())


def main() -> None:
    data_dir, run, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    rng = random.Random(seed)
    store = Store(data_dir)
    items = store.table("items")
    records = store.call_records
    my_items: list[str] = []
    my_records: list[str] = []
    say("ready")
    n = 0
    while True:
        n += 1
        step = n % 4
        if step == 0 and len(my_items) < INSERTS_PER_RUN or step in (0, 1) and not my_items:
            key = f"{run}-{n}"
            say(f"do items {key} {n}")
            items.insert({"key": key, "value": n})
            my_items.append(key)
        elif step in (0, 1):
            key = rng.choice(my_items)
            say(f"do items {key} {n}")
            items.update({"value": n}, Query().key == key)
        elif step == 2 or not my_records:
            record_id = f"{run}-{n}"
            month = rng.choice(MONTHS)
            start = f"{month}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00+01:00"
            say(f"do cdr {record_id} {n}")
            records.append({"id": record_id, "start": start, "value": n})
            my_records.append(record_id)
        elif rng.random() < 0.05:
            record_id = my_records.pop(rng.randrange(len(my_records)))
            say(f"do cdr {record_id} -")
            records.delete_where(lambda r, rid=record_id: r["id"] == rid)
        else:
            record_id = rng.choice(my_records)
            say(f"do cdr {record_id} {n}")
            records.update(record_id, {"value": n})
        say("ack")


if __name__ == "__main__":
    main()
