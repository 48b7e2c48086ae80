"""``arclink state export|import``: the emulator's state as a topology file, and back.

With a running emulator (its ``endpoints.json`` in the state directory, or ``--emulator``)
this goes through the control API; otherwise it reads or writes ``arm.db`` directly. An import
writes only under the state directory's lock, the one ``arclink serve`` holds: while a server
holds it, the import goes through that server or not at all.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from arclink.cli.main import UserError
from arclink.statedir import StateDirError, lock_holder, lock_state, open_state_dir, private_umask


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    ex = sub.add_parser("export", help="write the state as a topology (YAML or JSON)")
    ex.add_argument("--state", default=".arclink", metavar="DIR", help="state directory (default ./.arclink)")
    ex.add_argument("--emulator", metavar="ENDPOINTS", help="a running emulator's endpoints.json")
    ex.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    ex.add_argument("--format", choices=("yaml", "json"), default=None, help="default: from the file name, else yaml")
    im = sub.add_parser("import", help="create a topology's resources in the emulator")
    im.add_argument("file", metavar="FILE", help="topology file (YAML or JSON)")
    im.add_argument("--state", default=".arclink", metavar="DIR", help="state directory (default ./.arclink)")
    im.add_argument("--emulator", metavar="ENDPOINTS", help="a running emulator's endpoints.json")
    im.add_argument("--replace", action="store_true", help="drop the current state first")


def _running(state: str, emulator: str | None) -> str | None:
    """The endpoints.json of a running emulator to talk to, if any."""
    if emulator:
        return emulator
    path = Path(state) / "endpoints.json"
    if not path.exists():
        return None
    try:
        pid = int(json.loads(path.read_text()).get("pid") or 0)
        os.kill(pid, 0)
    except (ValueError, OSError, AttributeError):
        return None
    return str(path)


def _open_store(state: str, *, create: bool = False):
    from arclink.arm.store import Store

    db = Path(state) / "arm.db"
    if not create and not db.exists():
        raise UserError(f"{db} does not exist: no emulator state there. Start 'arclink serve --state {state}' or "
                        "give --state DIR.")
    try:
        with private_umask():  # arm.db holds the bearer token
            return Store(db)
    except Exception as exc:  # sqlite3.DatabaseError, OSError
        raise UserError(f"cannot open {db}: {exc}. Remove it or give another --state DIR.") from None


def _lock(state: str):
    """The state directory's writer lock (created 0700 if new), or None while a server holds it."""
    try:
        return lock_state(open_state_dir(state))
    except StateDirError as exc:
        raise UserError(exc.message) from None
    except OSError as exc:
        raise UserError(f"cannot write in {state} ({exc.strerror}); make it writable or give another --state DIR.") \
            from None


def run(args) -> int:
    return _export(args) if args.action == "export" else _import(args)


def _export(args) -> int:
    import msgspec
    import yaml

    endpoints = _running(args.state, args.emulator)
    if endpoints:
        from arclink.cli.emulator_client import fetch_topology

        topo = fetch_topology(endpoints)
    else:
        from arclink.arm.model_view import onprem_of
        from arclink.model.arm_codec import topology_from_resources

        store = _open_store(args.state)
        try:
            topo = topology_from_resources(store.all_objects(), onprem_of(store))
        finally:
            store.close()
    doc = msgspec.to_builtins(topo)
    fmt = args.format or ("json" if (args.output or "").endswith(".json") else "yaml")
    text = json.dumps(doc, indent=2) + "\n" if fmt == "json" else yaml.safe_dump(doc, sort_keys=False)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror or exc}. Give -o a path in an existing, "
                            "writable directory.") from None
    else:
        sys.stdout.write(text)
    return 0


def _import(args) -> int:
    import msgspec

    from arclink.arm.errors import ArmError
    from arclink.model import loader
    from arclink.model.errors import TopologyError

    try:
        topo = loader.load(args.file).topology
    except TopologyError as exc:
        raise UserError(str(exc)) from None
    lock = None
    endpoints = args.emulator
    if not endpoints:
        lock = _lock(args.state)
        if lock is None:  # a server holds the directory: through it, never beside it
            endpoints = _running(args.state, None)
            if endpoints is None:
                raise UserError(f"{Path(args.state).resolve()} is in use by another 'arclink serve' (pid "
                                f"{lock_holder(Path(args.state)) or 'unknown'}) whose endpoints.json is not readable; "
                                "stop it, or pass its endpoints.json with --emulator.")
    if endpoints:
        from arclink.cli.emulator_client import control_send

        result = control_send(endpoints, "PUT" if args.replace else "POST", "state",
                              msgspec.json.encode(msgspec.to_builtins(topo)))
        n = result.get("created", 0)
    else:
        from arclink.arm.seed import seed_topology

        try:
            store = _open_store(args.state, create=True)
            try:
                n = seed_topology(store, topo, replace=args.replace)
            except ArmError as exc:
                raise UserError(f"refused: {exc.message}", 1) from None
            finally:
                store.close()
        finally:
            assert lock is not None
            lock.close()
    print(f"imported {n} resources from {args.file}")
    return 0
