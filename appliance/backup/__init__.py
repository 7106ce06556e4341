"""Backups of the data directory, restore, and factory reset.

A backup is one tar.gz file: the data files under `data/`, and last a
manifest (`callbox-backup.json`) with the sha256 and size of every file. A
restore trusts nothing in the file until all of it has been read and checked:
it extracts into a sibling directory, verifies, and only then swaps that
directory in with one rename, so a bad file (or a power cut) leaves the box
as it was. The manifest comes last because the files are hashed while they
are written, in one pass, while the core may be running.

The backup runs beside a running core without its lock: config.json is only
ever replaced whole (one read gives one consistent version), and call-record
shards only grow (copying up to the last complete line at the start gives a
consistent prefix).

The modules: common (the layout of the data directory and the box id),
archive (writing and checking backup files), restore, reset (factory
reset), rotation (the daily backup and its cleanup) and commands (the
command-line entry points).
"""

from typing import TYPE_CHECKING

from appliance.backup.common import (
    AUTO_PREFIX,
    BACKUPS_DIR,
    BOX_ID_FILE,
    BULKY_AUDIO,
    CHUNK,
    DATA_PREFIX,
    DAY_S,
    FORMAT,
    FORMAT_VERSION,
    FREE_SPACE_MARGIN,
    MANIFEST,
    MANUAL_PREFIX,
    MAX_MANIFEST_BYTES,
    RESET_KEEPS,
    RESET_MARK,
    RESET_PREFIX,
    SKIPPED_FILES,
    STAGING_MARK,
    SUFFIX,
    TOKEN_FILE,
    TOP_LEVEL_SKIPPED,
    Clock,
    box_id,
    default_backups_dir,
    log,
)
from appliance.errors import BackupError

if TYPE_CHECKING:
    from appliance.backup.archive import BackupFile, BackupInfo, create_backup, verify_backup
    from appliance.backup.commands import (
        backup_command,
        cleanup_command,
        factory_reset_command,
        restore_command,
        verify_command,
    )
    from appliance.backup.reset import factory_reset, finish_interrupted_reset
    from appliance.backup.restore import RestoreReport, restore_backup
    from appliance.backup.rotation import backup_due, cleanup, daily_backup

# The rest is loaded from its module when first asked for (PEP 562): the core imports this package
# at every start (is a factory reset to finish?) and makes, checks or restores a backup rarely.
_LATER = {
    "archive": ("BackupFile", "BackupInfo", "create_backup", "verify_backup"),
    "commands": ("backup_command", "cleanup_command", "factory_reset_command", "restore_command",
                 "verify_command"),
    "reset": ("factory_reset", "finish_interrupted_reset"),
    "restore": ("RestoreReport", "restore_backup"),
    "rotation": ("backup_due", "cleanup", "daily_backup"),
}
_MODULE_OF = {name: module for module, names in _LATER.items() for name in names}


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))


__all__ = [
    "AUTO_PREFIX",
    "BACKUPS_DIR",
    "BOX_ID_FILE",
    "BULKY_AUDIO",
    "CHUNK",
    "DATA_PREFIX",
    "DAY_S",
    "FORMAT",
    "FORMAT_VERSION",
    "FREE_SPACE_MARGIN",
    "MANIFEST",
    "MANUAL_PREFIX",
    "MAX_MANIFEST_BYTES",
    "RESET_KEEPS",
    "RESET_MARK",
    "RESET_PREFIX",
    "SKIPPED_FILES",
    "STAGING_MARK",
    "SUFFIX",
    "TOKEN_FILE",
    "TOP_LEVEL_SKIPPED",
    "BackupError",
    "BackupFile",
    "BackupInfo",
    "Clock",
    "RestoreReport",
    "backup_command",
    "backup_due",
    "box_id",
    "cleanup",
    "cleanup_command",
    "create_backup",
    "daily_backup",
    "default_backups_dir",
    "factory_reset",
    "factory_reset_command",
    "finish_interrupted_reset",
    "log",
    "restore_backup",
    "restore_command",
    "verify_backup",
    "verify_command",
]
