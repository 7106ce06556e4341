"""The `callbox` command."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any, Sequence

from appliance import __version__

DEFAULT_DATA = Path(os.environ.get("CALLBOX_DATA", "/var/lib/callbox"))


def _overrides(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"callbox: --set takes key=value, got {item!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def cmd_core(args: argparse.Namespace) -> int:
    from appliance.core import run_core
    _logging(args.verbose)
    overrides = _overrides(args.set)
    if args.sip_port is not None:
        overrides["sip.port"] = args.sip_port
    if args.api_port is not None:
        overrides["api.port"] = args.api_port
    if args.bind is not None:
        overrides["sip.bind"] = args.bind
    from appliance.errors import StoreError
    from appliance.store.db import LockBusy
    try:
        run_core(Path(args.data), overrides)
    except StoreError as e:
        if isinstance(e.__cause__, LockBusy):  # another core or demo: a message, not a traceback
            raise SystemExit(f"callbox core: {e}") from None
        raise
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from appliance.demo import run_demo
    _logging(args.verbose)
    return run_demo(Path(args.data), sip_port=args.sip_port, web_port=args.web_port,
                    callers_per_min=args.callers_per_min)


def cmd_web(args: argparse.Namespace) -> int:
    from web.server import main as web_main
    argv = ["--data", str(args.data), "--host", args.host, "--port", str(args.port)]
    if args.insecure_http:
        argv.append("--insecure-http")
    return web_main(argv) or 0


def port_free(host: str, port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def cmd_check(args: argparse.Namespace) -> int:
    """What the box found: engine build and limits, ports, serial devices, panel backend."""
    from appliance.settings import Settings
    report: dict[str, Any] = {"version": __version__}
    try:
        from appliance.engine.probe import probe_pjsua2
        report["engine"] = probe_pjsua2()
    except Exception as e:  # the check reports, it does not fail on the first missing part
        report["engine"] = {"available": False, "error": str(e)}
    s = Settings()
    from appliance.network import NetworkWatch
    report["network"] = NetworkWatch(bind=s["sip.bind"], interface=s["network.interface"]).found.public()
    report["ports"] = {
        f"sip {s['sip.port']}/udp": port_free(s["sip.bind"], s["sip.port"], socket.SOCK_DGRAM),
        f"sip {s['sip.port']}/tcp": port_free(s["sip.bind"], s["sip.port"], socket.SOCK_STREAM),
        f"api {s['api.port']}/tcp": port_free(s["api.bind"], s["api.port"], socket.SOCK_STREAM),
        f"web {s['web.port']}/tcp": port_free("0.0.0.0", s["web.port"], socket.SOCK_STREAM),
    }
    try:
        from dataclasses import asdict

        from appliance.lines.discovery import list_serial_ports, list_usb_modems
        report["serial"] = {"ports": list_serial_ports(), "modems": [asdict(m) for m in list_usb_modems()]}
    except Exception as e:
        report["serial"] = {"error": str(e)}
    try:
        from appliance.hw.backends import select_backend
        backend = select_backend(s["panel.backend"])
        report["panel"] = {"backend": backend.name, "reason": backend.reason}
    except Exception as e:
        report["panel"] = {"error": str(e)}
    report["setup"] = _setup_report(Path(args.data))
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        for key, value in report.items():
            print(f"{key}: {json.dumps(value, default=str)}")
    return 0


def _setup_report(data_dir: Path) -> dict[str, Any]:
    """The first-run set-up code while the box has no admin: only who can read the state directory sees it."""
    from appliance import setup_code
    try:
        code = setup_code.read(data_dir)
    except PermissionError:
        return {"error": f"cannot read {setup_code.code_path(data_dir)}: run as root or as the callbox user"}
    if code is None:
        return {"needed": False}
    return {"needed": True, "code": code,
            "how": "open the web page's /setup and enter this code to create the first admin (it works once)"}


def cmd_reset_password(args: argparse.Namespace) -> int:
    """A new password for a web user, from the box's console: the way back in for a locked-out owner."""
    import secrets

    from appliance.errors import ApiError
    from web.api_client import ApiClient
    from web.security import hash_password
    username = args.username.strip().lower()
    try:
        api = ApiClient.from_data_dir(args.data)
        api.user(username)
    except ApiError as exc:
        why = f"no web user {username}" if exc.status == 404 else f"the core is not reachable ({exc.message})"
        print(f"callbox: {why}; nothing changed", file=sys.stderr)
        return 1
    # Letters and digits only, 16 of them (about 95 bits): easy to read off a console.
    alphabet = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY345679"
    password = "".join(secrets.choice(alphabet) for _ in range(16))
    try:
        api.update_user(username, password_hash=hash_password(password))
        api.add_audit("console", "password_reset", f"a new password for {username} from the box's console")
    except ApiError as exc:
        print(f"callbox: the password was not changed: {exc.message}", file=sys.stderr)
        return 1
    print(f"New password for {username}: {password}\n"
          "Log in with it (failed logins counted against the old password are forgotten) "
          "and then choose your own (your panel's password form).")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from appliance import backup
    if args.verify:
        return backup.verify_command(Path(args.verify))
    return backup.backup_command(Path(args.data), Path(args.file) if args.file else None,
                                 include_audio=not args.no_audio, auto=args.auto, keep_backups=args.keep)


def cmd_restore(args: argparse.Namespace) -> int:
    from appliance import backup
    return backup.restore_command(Path(args.file), Path(args.data))


def cmd_factory_reset(args: argparse.Namespace) -> int:
    from appliance import backup
    if not args.yes:
        answer = input("Factory reset: every setting, extension, user and recording is removed "
                       "(a backup is kept first). Type RESET to go on: ") if sys.stdin.isatty() else ""
        if answer.strip() != "RESET":
            print("callbox: factory reset not confirmed; nothing changed", file=sys.stderr)
            return 1
    return backup.factory_reset_command(Path(args.data))


def cmd_cleanup(args: argparse.Namespace) -> int:
    from appliance import backup
    return backup.cleanup_command(Path(args.data), keep_backups=args.keep)


def cmd_settings_doc(args: argparse.Namespace) -> int:
    from appliance.settings import render_docs
    sys.stdout.write(render_docs())
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="callbox", description="Callbox: a call center in a box.")
    p.add_argument("--version", action="version", version=f"callbox {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    core = sub.add_parser("core", help="run the core: SIP edge, call logic, control API")
    core.add_argument("--data", default=DEFAULT_DATA, help="data directory (default %(default)s)")
    core.add_argument("--sip-port", type=int, help="SIP port (overrides sip.port; 0 = a free port)")
    core.add_argument("--api-port", type=int, help="control API port (overrides api.port; 0 = a free port)")
    core.add_argument("--bind", help="SIP address to listen on (overrides sip.bind)")
    core.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="override a setting for this run (not stored)")
    core.add_argument("-v", "--verbose", action="store_true")
    core.set_defaults(func=cmd_core)

    demo = sub.add_parser("demo", help="run the box on loopback with simulated hardware")
    demo.add_argument("--data", default=Path("var"), help="data directory (default %(default)s)")
    demo.add_argument("--sip-port", type=int, default=5060)
    demo.add_argument("--web-port", type=int, default=8080)
    demo.add_argument("--callers-per-min", type=float, default=4.0, help="simulated callers (default %(default)s)")
    demo.add_argument("-v", "--verbose", action="store_true")
    demo.set_defaults(func=cmd_demo)

    webp = sub.add_parser("web", help="run the admin web page")
    webp.add_argument("--data", default=DEFAULT_DATA)
    webp.add_argument("--host", default="0.0.0.0")
    webp.add_argument("--port", type=int, default=8443)
    webp.add_argument("--insecure-http", action="store_true", help="plain HTTP (loopback only)")
    webp.set_defaults(func=cmd_web)

    check = sub.add_parser("check", help="report what the box found: engine, ports, serial devices, panel, "
                                         "and the first-run set-up code while there is no admin")
    check.add_argument("--data", default=DEFAULT_DATA)
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_check)

    bk = sub.add_parser("backup", help="write a backup of the data directory as one file")
    bk.add_argument("file", nargs="?", help="backup file or directory (default DATA/backups/)")
    bk.add_argument("--data", default=DEFAULT_DATA)
    bk.add_argument("--no-audio", action="store_true", help="leave out voicemail and recordings")
    bk.add_argument("--auto", action="store_true", help="the daily automatic backup (rotated)")
    bk.add_argument("--keep", type=int, default=7, help="automatic backups to keep (default %(default)s)")
    bk.add_argument("--verify", metavar="FILE", help="only check a backup file; change nothing")
    bk.set_defaults(func=cmd_backup)

    rp = sub.add_parser("reset-password", help="give a web user a new password (prints it); "
                                               "the owner's way back in, from the box's console")
    rp.add_argument("username")
    rp.add_argument("--data", default=DEFAULT_DATA)
    rp.set_defaults(func=cmd_reset_password)

    rs = sub.add_parser("restore", help="restore a backup file (stop the core first); all or nothing")
    rs.add_argument("file")
    rs.add_argument("--data", default=DEFAULT_DATA)
    rs.set_defaults(func=cmd_restore)

    fr = sub.add_parser("factory-reset", help="back up, then return the box to first run")
    fr.add_argument("--data", default=DEFAULT_DATA)
    fr.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    fr.set_defaults(func=cmd_factory_reset)

    cl = sub.add_parser("cleanup", help="rotate automatic backups")
    cl.add_argument("--data", default=DEFAULT_DATA)
    cl.add_argument("--keep", type=int, default=7)
    cl.set_defaults(func=cmd_cleanup)

    doc = sub.add_parser("settings-doc", help="print docs/settings.md from the settings declarations")
    doc.set_defaults(func=cmd_settings_doc)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if getattr(args, "data", None) is not None:
        # Made absolute once, here: every path built from it (recordings handed to the engine
        # workers, voicemail being recorded) then means the same file in every process.
        args.data = Path(args.data).expanduser().resolve()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
