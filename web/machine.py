"""What the web process reads about its own machine: memory, disk, load, uptime, temperature.

The core and the web process run on the same box, so the system page reads
these itself (from /proc, /sys and os.statvfs of the data directory) instead
of asking the core. The parsers are pure; read_machine() does the reading.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Usage:
    """Total and available bytes of one resource (memory, or the data directory's disk)."""

    total: int
    available: int

    @property
    def used(self) -> int:
        return max(0, self.total - self.available)

    @property
    def percent_used(self) -> int:
        return round(100 * self.used / self.total) if self.total else 0


@dataclass(frozen=True)
class MachineInfo:
    """One reading of the box; None where this machine does not say."""

    memory: Usage | None
    disk: Usage | None
    disk_path: str | None
    uptime_s: float | None
    load: tuple[float, float, float] | None
    cpus: int
    temperature_c: float | None


def parse_meminfo(text: str) -> Usage | None:
    """Memory from /proc/meminfo: MemTotal and MemAvailable (kB)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key.strip()] = int(parts[0]) * (1024 if parts[1:2] == ["kB"] else 1)
    if "MemTotal" not in values:
        return None
    available = values.get("MemAvailable",
                           values.get("MemFree", 0) + values.get("Cached", 0) + values.get("Buffers", 0))
    return Usage(values["MemTotal"], min(available, values["MemTotal"]))


def parse_uptime(text: str) -> float | None:
    """Seconds since boot from /proc/uptime."""
    try:
        return float(text.split()[0])
    except (IndexError, ValueError):
        return None


def parse_loadavg(text: str) -> tuple[float, float, float] | None:
    """The 1, 5 and 15 minute load averages from /proc/loadavg."""
    try:
        one, five, fifteen = (float(x) for x in text.split()[:3])
    except ValueError:
        return None
    return one, five, fifteen


def parse_temperature(text: str) -> float | None:
    """Degrees Celsius from a thermal zone's `temp` file (millidegrees)."""
    try:
        return round(int(text.strip()) / 1000, 1)
    except ValueError:
        return None


def disk_usage(path: str | Path) -> Usage | None:
    """Size and space left for the box's own writes (what an unprivileged writer may use)."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return Usage(st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def read_machine(data_dir: str | Path | None, proc: str | Path = "/proc",
                 sys_dir: str | Path = "/sys") -> MachineInfo:
    """Read the machine now; a missing file leaves its field None rather than failing the page."""
    proc, sys_dir = Path(proc), Path(sys_dir)
    return MachineInfo(
        memory=parse_meminfo(_read(proc / "meminfo")),
        disk=disk_usage(data_dir) if data_dir else None,
        disk_path=str(data_dir) if data_dir else None,
        uptime_s=parse_uptime(_read(proc / "uptime")),
        load=parse_loadavg(_read(proc / "loadavg")),
        cpus=os.cpu_count() or 1,
        temperature_c=parse_temperature(_read(sys_dir / "class/thermal/thermal_zone0/temp")),
    )


def fmt_bytes(n: int | None) -> str:
    """1.5 GiB, 730 MiB, 12 KiB."""
    if n is None:
        return "unknown"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit in ("B", "KiB") or size >= 100 else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def fmt_uptime(seconds: float | None) -> str:
    """3 d 4 h, 2 h 5 min, 7 min."""
    if seconds is None:
        return "unknown"
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
