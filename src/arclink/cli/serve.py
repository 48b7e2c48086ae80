"""``arclink serve``: the ARM emulator over HTTPS, the DNS server and the private-endpoint gateway.

State directory (default ``./.arclink``): ``endpoints.json``, ``ca.pem``/``ca-key.pem``,
``arm-server.pem``, and unless ``--in-memory`` the database ``arm.db``.
``start_services`` is the in-process API tests and the demo use.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from arclink.cli.main import UserError

DEFAULT_STATE_DIR = ".arclink"
log = logging.getLogger("arclink.serve")


def add_arguments(parser) -> None:
    parser.add_argument("--state", default=DEFAULT_STATE_DIR, metavar="DIR",
                        help="state directory: endpoints.json, CA, database (default ./.arclink)")
    parser.add_argument("--in-memory", action="store_true", help="keep resources in memory only (nothing on disk but "
                                                                 "the CA and endpoints.json)")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (loopback only; default 127.0.0.1)")
    parser.add_argument("--arm-port", type=int, default=0, metavar="N", help="ARM HTTPS port (0 picks a free one)")
    parser.add_argument("--dns-port", type=int, default=0, metavar="N", help="DNS port (0 picks a free one)")
    parser.add_argument("--gateway-port", type=int, default=0, metavar="N", help="gateway port (0 picks a free one)")
    parser.add_argument("--topology", metavar="FILE", help="seed the emulator from a topology file (YAML or JSON)")
    parser.add_argument("--api-version-check", choices=("strict", "lenient", "off"), default=None,
                        help="api-version policy (default strict; env ARCLINK_API_VERSION_CHECK)")
    parser.add_argument("--reset", action="store_true",
                        help="start afresh: delete the stored resources, token and subscription first")


@dataclass
class Services:
    endpoints: dict
    live: object
    state_dir: Path
    store: object
    app: object
    _server: object = None
    _thread: threading.Thread | None = None
    _handles: list = field(default_factory=list)
    _stopped: bool = False
    _lock: object = None

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for h in self._handles:
            try:
                h.close()
            except Exception:  # closing others must go on
                log.exception("closing %r", h)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=2)
            if self._thread.is_alive():  # idle keep-alive clients: do not wait for them
                self._server.force_exit = True
                self._thread.join(timeout=5)
        self.live.close()
        self.store.close()
        if self._lock is not None:
            self._lock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _loopback(host: str) -> None:
    from arclink.endpoints import is_loopback

    if not is_loopback(host):
        raise UserError(f"--host {host} is not a loopback address; the emulator listens on loopback only "
                        "(use 127.0.0.1 or ::1).")


def _settings(store) -> tuple[str, str, str]:
    """Token, default subscription and tenant: kept in the store so they survive restarts."""
    makers = {"token": lambda: secrets.token_urlsafe(32), "subscription": lambda: str(uuid.uuid4()),
              "tenant": lambda: str(uuid.uuid4())}
    for key, make in makers.items():
        if not store.meta.get(key):
            store.set_meta(key, make())
    return store.meta["token"], store.meta["subscription"], store.meta["tenant"]


def _server_cert(state_dir: Path) -> tuple[Path, Path]:
    from arclink import pki

    cert, key = state_dir / "arm-server.pem", state_dir / "arm-server-key.pem"
    ca = pki.ensure_ca(state_dir)
    if not (cert.exists() and key.exists()):
        pem, kpem = pki.issue_server_cert(ca, ["localhost"], ["127.0.0.1", "::1"])
        pki.write_leaf(state_dir, "arm-server", pem, kpem)
    return cert, key


def _quiet_shutdown(record) -> bool:
    """Idle keep-alive clients at shutdown are expected, not an error worth a log line."""
    return "graceful shutdown exceeded" not in record.getMessage()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _lock_state(state_dir: Path):
    """One server per state directory: two would each cache the database and diverge."""
    import fcntl

    fh = open(state_dir / "serve.lock", "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.seek(0)
        other = fh.read().strip() or "another process"
        fh.close()
        raise UserError(f"{state_dir} is in use by another 'arclink serve' (pid {other}); stop it or use another "
                        "--state.") from None
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    return fh


def _bind(host: str, port: int) -> socket.socket:
    """The ARM listening socket (port 0: a free one), bound before uvicorn starts so the port is known."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
    except OSError:
        s.close()
        raise
    return s


def start_services(state_dir, *, in_memory: bool = False, host: str = "127.0.0.1", arm_port: int = 0,
                   dns_port: int = 0, gateway_port: int = 0, topology=None, api_version_check: str | None = None,
                   write_endpoints: bool = True, reset: bool = False) -> Services:
    """Start ARM (uvicorn in a background thread), DNS and gateway; write endpoints.json when ready.

    ``topology`` seeds an empty or existing state: a ``schema.Topology``, an ``Index`` or a file path.
    """
    _loopback(host)
    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    mode = (api_version_check or os.environ.get("ARCLINK_API_VERSION_CHECK") or "strict").lower()
    if mode not in ("strict", "lenient", "off"):
        raise UserError(f"api-version check '{mode}' is not one of strict, lenient, off (ARCLINK_API_VERSION_CHECK).")
    lock = _lock_state(state_dir)
    try:
        if reset:  # under the lock: never under a running server
            for name in ("arm.db", "arm.db-wal", "arm.db-shm", "settings.json"):
                (state_dir / name).unlink(missing_ok=True)
        return _start_locked(lock, state_dir, mode, in_memory=in_memory, host=host, arm_port=arm_port,
                             dns_port=dns_port, gateway_port=gateway_port, topology=topology,
                             write_endpoints=write_endpoints)
    except BaseException:
        lock.close()
        raise


def _start_locked(lock, state_dir: Path, mode: str, *, in_memory, host, arm_port, dns_port, gateway_port, topology,
                  write_endpoints) -> Services:
    import uvicorn

    from arclink.arm.app import ArmConfig, create_app
    from arclink.arm.errors import ArmError
    from arclink.arm.live import StoreLiveState
    from arclink.arm.store import Store, StoreCorrupt

    try:
        store = Store(None if in_memory else state_dir / "arm.db")
    except StoreCorrupt as exc:
        raise UserError(f"cannot open the database {exc.path}: {exc.reason}; restore it from a copy, or start with "
                        "--reset to begin afresh (its resources, token and subscription are lost).") from None
    except Exception as exc:  # sqlite3.DatabaseError and friends
        raise UserError(f"cannot open the database in {state_dir}: {exc}. Remove arm.db or use another --state.") from None
    if in_memory:
        # keep the token and ids stable across in-memory restarts of the same state dir
        saved = state_dir / "settings.json"
        if saved.exists():
            try:
                for k, v in json.loads(saved.read_text()).items():
                    store.meta[k] = v
            except (OSError, ValueError):
                pass
    if isinstance(topology, (str, Path)):
        from arclink.model import loader
        from arclink.model.errors import TopologyError

        try:
            topology = loader.load(topology).topology
        except TopologyError as exc:
            store.close()
            raise UserError(str(exc)) from None
    elif topology is not None and hasattr(topology, "topology"):  # an Index
        topology = topology.topology
    if topology is not None:
        from arclink.arm.seed import seed_topology

        try:
            seed_topology(store, topology)
        except ArmError as exc:
            store.close()
            raise UserError(f"the topology cannot be created: {exc.message}") from None
    token, sub, tenant = _settings(store)
    if in_memory:
        _write_private(state_dir / "settings.json", json.dumps({"token": token, "subscription": sub, "tenant": tenant}))
    cert, key = _server_cert(state_dir)
    config = ArmConfig(token=token, subscription=sub, tenant=tenant, api_version_check=mode,
                       state_dir=str(state_dir))
    live = StoreLiveState(store)
    store.start_group_commit()
    app = create_app(store, live, config)

    try:
        sock = _bind(host, arm_port)
    except OSError as exc:
        store.close()
        raise UserError(f"cannot listen on {host}:{arm_port}: {exc.strerror}. Pick another --arm-port or 0.") from None
    port = sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    app.set_base_url(f"https://{url_host}:{port}")
    kwargs = dict(host=host, port=port, log_level="warning", ssl_certfile=str(cert), ssl_keyfile=str(key),
                  access_log=False, lifespan="off", server_header=False, timeout_keep_alive=30,
                  timeout_graceful_shutdown=1)  # loop and http "auto": uvloop and httptools when installed
    uv_log = logging.getLogger("uvicorn.error")
    if _quiet_shutdown not in uv_log.filters:
        uv_log.addFilter(_quiet_shutdown)
    server = uvicorn.Server(uvicorn.Config(app, **kwargs))
    server.install_signal_handlers = lambda: None  # the caller owns signals
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="arclink-arm", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            store.close()
            raise UserError("the ARM server did not start; see the log above.")
        time.sleep(0.01)

    services = Services({}, live, state_dir, store, app, server, thread)  # the caller closes the lock on failure
    try:
        dns = _start_optional("arclink.dns.server", "start_dns_server", live, host, dns_port)
        services._handles = [dns] if dns is not None else []
        gw = _start_optional("arclink.gateway.server", "start_gateway", live, str(state_dir), host, gateway_port)
        services._handles += [gw] if gw is not None else []
    except BaseException:
        services.stop()
        raise
    services._lock = lock
    services.endpoints = {
        "arm": f"https://{url_host}:{port}", "ca_cert": str(state_dir / "ca.pem"), "token": token,
        "subscription": sub, "tenant": tenant,
        # the addresses bound ("localhost" becomes 127.0.0.1): DNS clients need an address
        "dns": {"host": dns.host, "port": dns.port} if dns is not None else None,
        "gateway": {"host": gw.host, "port": gw.port} if gw is not None else None,
        "pid": os.getpid(), "state_dir": str(state_dir), "in_memory": bool(in_memory),
    }
    if write_endpoints:  # it holds the token: readable by its owner only, replaced atomically
        tmp = state_dir / "endpoints.json.tmp"
        _write_private(tmp, json.dumps(services.endpoints, indent=2) + "\n")
        os.replace(tmp, state_dir / "endpoints.json")
    return services


def _start_optional(module: str, func: str, *args):
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        log.warning("%s is not available; its endpoint is null in endpoints.json", module)
        return None
    fn = getattr(mod, func, None)
    if fn is None:
        log.warning("%s has no %s(); its endpoint is null in endpoints.json", module, func)
        return None
    try:
        return fn(*args)
    except (OSError, ValueError) as exc:  # a busy port; a host the service refuses
        raise UserError(f"cannot start {module.rsplit('.', 1)[-1]}: {exc}.") from None


def run(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    services = start_services(args.state, in_memory=args.in_memory, host=args.host, arm_port=args.arm_port,
                              dns_port=args.dns_port, gateway_port=args.gateway_port, topology=args.topology,
                              api_version_check=args.api_version_check, reset=args.reset)
    e = services.endpoints
    dns = f"{e['dns']['host']}:{e['dns']['port']}" if e["dns"] else "off"
    gw = f"{e['gateway']['host']}:{e['gateway']['port']}" if e["gateway"] else "off"
    print(f"arclink serve: ARM {e['arm']}  DNS {dns}  gateway {gw}  state {services.state_dir}"
          f"{' (in memory)' if args.in_memory else ''}  endpoints {services.state_dir / 'endpoints.json'}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        services.stop()
    return 0
