"""The whole emulator in one process: the ARM emulator over HTTPS, the DNS server and the gateway.

``start_services(state_dir)`` starts the three on loopback over one live state and writes
``endpoints.json``; ``arclink serve``, ``arclink demo``, ``arclink fleet`` and the tests all
start the emulator this way. It composes the faces (like ``arclink.cli``), so it lives
outside them. A problem the user can fix is a ``StackError`` with one sentence and the fix;
the command line prints it and exits 2.

State directory: ``endpoints.json``, ``ca.pem``/``ca-key.pem``, ``arm-server.pem``, and
unless ``in_memory`` the database ``arm.db``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, TypeVar

from arclink.httpguard import guarded_protocol, serve_guarded
from arclink.limits import Limits, raise_nofile
from arclink.net import is_loopback
from arclink.statedir import StateDirError, lock_holder, lock_state, open_state_dir, private_umask, write_private

__all__ = ["Services", "StackError", "start_services", "start_store_dns"]

log = logging.getLogger("arclink.serve")
T = TypeVar("T")


class StackError(Exception):
    """The emulator cannot start for a reason the user can fix: ``message`` says what and how."""

    code = 2  # the exit code the CLI gives it: unusable input or settings

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Services:
    """The running emulator: ``endpoints`` (what endpoints.json holds), ``live``, ``store``, ``app``; ``stop()``."""

    endpoints: dict
    live: Any  # arclink.arm.live.StoreLiveState
    state_dir: Path
    store: Any  # arclink.arm.store.Store
    app: Any  # arclink.arm.app.ArmApp
    _server: Any = None  # uvicorn.Server
    _thread: threading.Thread | None = None
    _handles: list = field(default_factory=list)
    _stopped: bool = False
    _lock: IO[str] | None = None

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

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _loopback(host: str) -> None:
    if not is_loopback(host):
        raise StackError(f"--host {host} is not a loopback address; the emulator listens on loopback only "
                        "(use 127.0.0.1 or ::1).")


def _guid(key: str, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise StackError(f"--{key} '{value}' is not a GUID (Azure's ids look like "
                         "00000000-0000-0000-0000-000000000000).") from None


def _settings(store: Any) -> tuple[str, str, str]:
    """Token, default subscription and tenant: kept in the store so they survive restarts."""
    makers = {"token": lambda: secrets.token_urlsafe(32), "subscription": lambda: str(uuid.uuid4()),
              "tenant": lambda: str(uuid.uuid4())}
    for key, make in makers.items():
        if not store.meta.get(key):
            store.set_meta(key, make())
    return store.meta["token"], store.meta["subscription"], store.meta["tenant"]


def _server_context(state_dir: Path, names: tuple[str, ...] = (), host: str = "127.0.0.1") -> Any:
    """The ARM listener's TLS context, its certificate issued by the state's CA on first use, and again
    when it does not name the host it serves on (``--host 127.0.0.2``: clients verify that address)."""
    import ipaddress
    import ssl

    from arclink import pki

    cert, key = state_dir / "arm-server.pem", state_dir / "arm-server-key.pem"
    try:
        ca = pki.ensure_ca(state_dir)
    except pki.PemError as exc:
        raise StackError(f"{exc.path} is not a valid PEM {exc.what}; restore it, or remove ca.pem and ca-key.pem "
                         "to make a new CA (clients must then trust the new ca.pem).") from None
    dns_names, ips = ["localhost", *names], ["127.0.0.1", "::1"]
    try:
        ip = str(ipaddress.ip_address(host))
        if ip not in ips:
            ips.append(ip)
    except ValueError:
        if host.lower() not in dns_names:
            dns_names.append(host.lower())
    if names or not (cert.exists() and key.exists()) or not pki.names_covered(cert, dns_names, ips):
        pem, kpem = pki.issue_server_cert(ca, dns_names, ips)
        pki.write_leaf(state_dir, "arm-server", pem, kpem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError):
        raise StackError(f"{cert} or {key} is not a valid PEM certificate and key; remove both to issue new ones.") \
            from None
    return ctx


def _quiet_shutdown(record: logging.LogRecord) -> bool:
    """Idle keep-alive clients at shutdown are expected, not an error worth a log line."""
    return "graceful shutdown exceeded" not in record.getMessage()


def _lock_state(state_dir: Path) -> IO[str]:
    """One writer per state directory: two servers would each cache the database and diverge."""
    try:
        fh = lock_state(state_dir)
    except StateDirError as exc:
        raise StackError(exc.message) from None
    except OSError as exc:
        raise _file_error(exc, state_dir) from None
    if fh is None:
        other = lock_holder(state_dir) or "another process"
        raise StackError(f"{state_dir} is in use by another 'arclink serve' (pid {other}); stop it or use another "
                        "--state.")
    return fh


def _file_error(exc: OSError, state_dir: Path) -> StackError:
    """A write in the state directory failed: say which file and what to do."""
    import errno

    where = exc.filename or state_dir
    if exc.errno == errno.ENOSPC:
        return StackError(f"cannot write {where}: the disk is full; free space or use another --state.")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StackError(f"cannot write {where} ({exc.strerror}); make {state_dir} writable or use another --state.")
    return StackError(f"cannot write {where} ({exc.strerror}); check {state_dir} or use another --state.")


def _disk_full(state_dir: Path) -> bool:
    """Less than a page left for the state directory's file system."""
    try:
        st = os.statvfs(state_dir)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 8192


def _private_db(path: Path) -> None:
    """arm.db holds the bearer token: its files are the owner's only, also when an older arclink made them."""
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        try:
            os.chmod(path.with_name(name), 0o600, follow_symlinks=False)
        except (FileNotFoundError, NotImplementedError):
            pass


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


def start_services(state_dir: str | Path, *, in_memory: bool = False, host: str = "127.0.0.1", arm_port: int = 0,
                   dns_port: int = 0, gateway_port: int = 0, topology: Any = None,
                   api_version_check: str | None = None, write_endpoints: bool = True,
                   reset: bool = False, limits: Limits | None = None, subscription: str | None = None,
                   tenant: str | None = None, arm_sockets: tuple[socket.socket, ...] = (),
                   arm_names: tuple[str, ...] = ()) -> Services:
    """Start ARM (uvicorn in a background thread), DNS and gateway; write endpoints.json when ready.

    ``arm_sockets``: listening sockets ARM also serves (the lab's, bound inside its namespaces on
    the public ARM and Entra ID addresses); ``arm_names``: the names its certificate adds for them.

    ``topology`` seeds an empty or existing state: a ``schema.Topology``, an ``Index`` or a file path.
    ``limits`` bounds every listener (``arclink.limits.Limits``; its defaults when None).
    ``subscription`` and ``tenant`` (GUIDs) are the ids a fresh state starts with (a random one each
    otherwise); a state that already has others is refused.
    Raises ``StackError`` when the host, the settings, the state directory or the topology will not do.
    """
    _loopback(host)
    limits = limits or Limits()
    try:
        limits.check()
        state_dir = open_state_dir(state_dir)
    except (ValueError, StateDirError) as exc:
        raise StackError(getattr(exc, "message", str(exc))) from None
    raise_nofile()
    mode = (api_version_check or os.environ.get("ARCLINK_API_VERSION_CHECK") or "strict").lower()
    if mode not in ("strict", "lenient", "off"):
        raise StackError(f"api-version check '{mode}' is not one of strict, lenient, off (ARCLINK_API_VERSION_CHECK).")
    ids = {k: _guid(k, v) for k, v in (("subscription", subscription), ("tenant", tenant)) if v is not None}
    lock = _lock_state(state_dir)
    try:
        if reset:  # under the lock: never under a running server
            for name in ("arm.db", "arm.db-wal", "arm.db-shm", "settings.json", "principals.json"):
                (state_dir / name).unlink(missing_ok=True)
        return _start_locked(lock, state_dir, mode, in_memory=in_memory, host=host, arm_port=arm_port,
                             dns_port=dns_port, gateway_port=gateway_port, topology=topology,
                             write_endpoints=write_endpoints, limits=limits, ids=ids, arm_sockets=arm_sockets,
                             arm_names=arm_names)
    except OSError as exc:  # a full disk, a read-only file: at whichever write it shows
        lock.close()
        raise _file_error(exc, state_dir) from None
    except BaseException:
        lock.close()
        raise


def _start_locked(lock: IO[str], state_dir: Path, mode: str, *, in_memory: bool, host: str, arm_port: int,
                  dns_port: int, gateway_port: int, topology: Any, write_endpoints: bool, limits: Limits,
                  ids: dict[str, str], arm_sockets: tuple[socket.socket, ...] = (),
                  arm_names: tuple[str, ...] = ()) -> Services:
    import uvicorn

    from arclink.arm.app import ArmConfig, create_app
    from arclink.arm.errors import ArmError
    from arclink.arm.live import StoreLiveState
    from arclink.arm.store import Store, StoreCorrupt
    from arclink import entra
    from arclink.principals import PrincipalError
    from arclink.gateway.server import start_gateway

    try:
        with private_umask():
            if not in_memory:
                _private_db(state_dir / "arm.db")
            store = Store(None if in_memory else state_dir / "arm.db")
    except StoreCorrupt as exc:
        raise StackError(f"cannot open the database {exc.path}: {exc.reason}; restore it from a copy, or start with "
                         "--reset to begin afresh (its resources, token and subscription are lost).") from None
    except Exception as exc:  # sqlite3.DatabaseError and friends
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code == 13 or code == 10 and _disk_full(state_dir):  # SQLITE_FULL; SQLITE_IOERR on a full disk
            raise StackError(f"cannot write {state_dir / 'arm.db'}: the disk is full; free space or use another "
                             "--state.") from None
        raise StackError(f"cannot open the database in {state_dir}: {exc}. Remove arm.db or use another --state.") from None
    if in_memory:
        # keep the token and ids stable across in-memory restarts of the same state dir
        saved = state_dir / "settings.json"
        if saved.exists():
            try:
                for k, v in json.loads(saved.read_text()).items():
                    store.meta[k] = v
            except (OSError, ValueError):
                pass
    for key, value in ids.items():
        if not store.meta.get(key):  # a fresh state takes the given ids (a topology's subscription still wins)
            store.set_meta(key, value)
    if isinstance(topology, (str, Path)):
        from arclink.model import loader
        from arclink.model.errors import TopologyError

        try:
            topology = loader.load(topology).topology
        except TopologyError as exc:
            store.close()
            raise StackError(str(exc)) from None
    elif topology is not None and hasattr(topology, "topology"):  # an Index
        topology = topology.topology
    if topology is not None:
        from arclink.arm.seed import seed_topology

        try:
            seed_topology(store, topology)
        except ArmError as exc:
            store.close()
            raise StackError(f"the topology cannot be created: {exc.message}") from None
    token, sub, tenant = _settings(store)
    for key, have in (("subscription", sub), ("tenant", tenant)):
        if key in ids and have.lower() != ids[key]:
            store.close()
            raise StackError(f"the emulator in {state_dir} already has {key} {have}, not {ids[key]}: leave out "
                             f"--{key}, or add --reset to start afresh with {ids[key]}.")
    if in_memory:
        write_private(state_dir / "settings.json", json.dumps({"token": token, "subscription": sub, "tenant": tenant}))
    ctx = _server_context(state_dir, tuple(arm_names), host)
    try:
        token_service = entra.open_service(state_dir, tenant, in_memory=in_memory)
        principal, client_secret = token_service.registry.ensure_default()
        user, password = token_service.registry.ensure_default_user()  # who signs in to the portal
    except PrincipalError as exc:
        store.close()
        raise StackError(str(exc)) from None
    except ValueError:  # the signing key does not load (cryptography says no more than that)
        store.close()
        raise StackError(f"{state_dir / 'token-signing-key.pem'} is not a valid PEM private key; remove it to make a "
                         "new one (tokens issued with the old key stop working).") from None
    config = ArmConfig(token=token, subscription=sub, tenant=tenant, api_version_check=mode,
                       state_dir=str(state_dir), signing_key=token_service.key,
                       principals=token_service.registry)
    # DNS answers from a process of its own (arclink.dns.process): ARM writes never hold the
    # interpreter lock it needs. It starts first, so that its start overlaps ARM's and the gateway's.
    try:
        dns = _start_server(start_store_dns, store, host, dns_port, limits)
    except BaseException:
        store.close()
        raise
    try:
        live = StoreLiveState(store)
        store.start_group_commit()
        app = create_app(store, live, config)

        try:
            sock = _bind(host, arm_port)
        except OSError as exc:
            store.close()
            raise StackError(f"cannot listen on {host}:{arm_port}: {exc.strerror}. Pick another --arm-port or 0.") from None
        port = sock.getsockname()[1]
        url_host = f"[{host}]" if ":" in host else host
        app.set_base_url(f"https://{url_host}:{port}")
        # TLS, the connection caps and the request limits are the guarded protocol's (arclink.httpguard);
        # the loop is "auto" (uvloop when installed), the protocol httptools' when installed.
        protocol, counter = guarded_protocol(limits)
        kwargs = dict(host=host, port=port, log_level="warning", http=protocol,
                      access_log=False, lifespan="off", server_header=False, timeout_keep_alive=limits.idle_timeout,
                      h11_max_incomplete_event_size=limits.max_header_bytes,
                      timeout_graceful_shutdown=1)
        uv_log = logging.getLogger("uvicorn.error")
        if _quiet_shutdown not in uv_log.filters:
            uv_log.addFilter(_quiet_shutdown)
        from arclink import portal
        from arclink.arm import chaos

        front = entra.with_entra(app, token_service)
        the_portal = portal.Portal(front, live, tenant=tenant, subscription=sub, static_token=token)
        front = portal.with_portal(front, the_portal)
        try:
            front = chaos.wrap(front)  # ARCLINK_CHAOS_429: throttle a share of reads
        except ValueError as exc:
            store.close()
            sock.close()
            raise StackError(str(exc)) from None
        server = uvicorn.Server(uvicorn.Config(front, **kwargs))
        server.install_signal_handlers = lambda: None  # the caller owns signals
        thread = threading.Thread(target=serve_guarded, args=(server, sock, ctx, limits, counter, arm_sockets),
                                  name="arclink-arm", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                store.close()
                raise StackError("the ARM server did not start; see the log above.")
            time.sleep(0.01)
    except BaseException:
        dns.close()
        raise

    services = Services({}, live, state_dir, store, app, server, thread)  # the caller closes the lock on failure
    services._handles = [dns]
    try:
        _check_gateway_cert(state_dir)
        gw = _start_server(start_gateway, live, str(state_dir), host, gateway_port, limits)
        services._handles.append(gw)
        try:
            dns.wait_ready()
        except RuntimeError as exc:
            raise StackError(f"{exc}; see the log above.") from None
        services._handles.append(the_portal)  # its background computation stops with the services
    except BaseException:
        services.stop()
        raise
    services._lock = lock
    services.endpoints = {
        "arm": f"https://{url_host}:{port}", "ca_cert": str(state_dir / "ca.pem"), "token": token,
        "subscription": sub, "tenant": tenant,
        # the token service on the same port: az login --service-principal, ClientSecretCredential
        "authority": f"https://{url_host}:{port}", "client_id": principal.client_id, "client_secret": client_secret,
        # the portal, and the user created with the state who signs in to it
        "portal": f"https://{url_host}:{port}/portal/", "user": user.username, "password": password,
        # the addresses bound ("localhost" becomes 127.0.0.1): DNS clients need an address
        "dns": {"host": dns.host, "port": dns.port},
        "gateway": {"host": gw.host, "port": gw.port},
        "pid": os.getpid(), "state_dir": str(state_dir), "in_memory": bool(in_memory),
    }
    if write_endpoints:  # it holds the token: readable by its owner only, replaced atomically
        try:
            write_private(state_dir / "endpoints.json", json.dumps(services.endpoints, indent=2) + "\n")
        except BaseException:
            services.stop()
            raise
    return services


def _check_gateway_cert(state_dir: Path) -> None:
    """gateway.pem and its key load, or the user learns which file to remove."""
    import ssl

    from arclink.gateway.tls import server_context
    from arclink.pki import PemError

    try:
        server_context(state_dir)
    except PemError as exc:
        raise StackError(f"{exc.path} is not a valid PEM {exc.what}; restore it, or remove ca.pem and ca-key.pem "
                         "to make a new CA (clients must then trust the new ca.pem).") from None
    except (ssl.SSLError, ValueError):
        raise StackError(f"{state_dir / 'gateway.pem'} or {state_dir / 'gateway-key.pem'} is not a valid PEM "
                         "certificate and key; remove both to issue new ones.") from None


def start_store_dns(store: Any, host: str = "127.0.0.1", port: int = 0, limits: Limits | None = None) -> Any:
    """A DNS process (``arclink.dns.process.DnsProcess``) answering from the emulator's ``store``,
    started and told every names write from now on; it answers once ``wait_ready()`` returns."""
    from arclink.arm.model_view import onprem_of
    from arclink.dns.process import DnsProcess

    def names() -> tuple[int, list[dict], dict]:
        generation = store.names_generation  # before the objects: they include at least its writes
        return generation, store.names_objects(), onprem_of(store)

    dns = DnsProcess(names, host, port, limits)
    with store.lock:  # no write between the count it starts at and the first it is told
        store.names_watchers.append(dns.names_changed)
        dns.names_changed(store.names_generation)
    try:
        dns.start()
    except BaseException:
        with store.lock:
            store.names_watchers.remove(dns.names_changed)
        dns.close()
        raise
    return dns


def _start_server(start: Callable[..., T], *args: Any) -> T:
    try:
        return start(*args)
    except (OSError, ValueError) as exc:  # a busy port; a host the service refuses
        raise StackError(f"cannot start server: {exc}.") from None
