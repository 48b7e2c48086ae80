"""``arclink az-login``: the real Azure CLI, logged in to ``arclink serve`` as a custom cloud.

az gets a configuration directory of its own under the state directory (``AZURE_CONFIG_DIR``), so
the user's own az login is never touched. Its settings keep it offline: no instance discovery
(which would ask login.microsoftonline.com about the emulator's authority), no telemetry, no
extension auto-install, no upgrade check. Then the cloud is registered from the emulator's
``/metadata/endpoints`` and the default service principal logs in. The ``export`` lines printed
on stdout are for ``eval``.
"""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from arclink.cli.main import UserError

CLOUD = "arclink"
INSTALL_HINT = ("install the Azure CLI ('pipx install azure-cli', or 'python -m venv ~/.az && ~/.az/bin/pip install "
                "azure-cli' and pass --az ~/.az/bin/az)")
# Settings az reads from AZURE_CONFIG_DIR/config: (section, option) -> value
SETTINGS = {("core", "instance_discovery"): "false", ("core", "collect_telemetry"): "false",
            ("core", "disable_confirm_prompt"): "true", ("core", "output"): "json",
            ("core", "survey_message"): "false", ("core", "first_run"): "false",
            ("extension", "use_dynamic_install"): "no", ("auto-upgrade", "enable"): "no"}
# A proxy address on loopback where nothing answers. az-login talks to the emulator only (loopback,
# NO_PROXY), so every other request az makes while logging in (the version check a fresh
# configuration directory makes once) fails at once instead of leaving the machine.
DEAD_PROXY = "http://127.0.0.1:9"


def add_arguments(parser) -> None:
    parser.add_argument("--emulator", required=True, metavar="ENDPOINTS",
                        help="the emulator's endpoints.json (or its state directory)")
    parser.add_argument("--az", metavar="PATH", help="the az executable (default: az on PATH)")


def find_az(explicit: str | None) -> str | None:
    """``explicit``, else az on PATH, else the repository's own ``.venv-az`` (where CI installs it)."""
    if explicit:
        return explicit if os.access(explicit, os.X_OK) and Path(explicit).is_file() else None
    found = shutil.which("az")
    if found:
        return found
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = root / ".venv-az" / "bin" / "az"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def az_environment(config_dir: Path, ca_cert: str, base: dict | None = None) -> dict:
    """The environment az-login runs az in: its own config dir, the emulator's CA, nothing sent elsewhere."""
    env = dict(os.environ if base is None else base)
    env.update({"AZURE_CONFIG_DIR": str(config_dir), "REQUESTS_CA_BUNDLE": ca_cert,
                "AZURE_CORE_COLLECT_TELEMETRY": "no", "AZURE_CORE_INSTANCE_DISCOVERY": "false",
                "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no", "AZURE_CORE_NO_COLOR": "true"})
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        env.pop(name, None)
        env.pop(name.lower(), None)
    env.update({"HTTPS_PROXY": DEAD_PROXY, "HTTP_PROXY": DEAD_PROXY, "NO_PROXY": "127.0.0.1,localhost,::1"})
    return env


def write_settings(config_dir: Path) -> None:
    """az's offline settings, merged into AZURE_CONFIG_DIR/config (others the user set are kept)."""
    config_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = config_dir / "config"
    parser = configparser.ConfigParser()
    parser.read(path)
    for (section, option), value in SETTINGS.items():
        if not parser.has_section(section):
            parser.add_section(section)
        parser.set(section, option, value)
    with open(path, "w", encoding="utf-8") as fh:
        parser.write(fh)


def _cloud_registered(config_dir: Path) -> bool:
    parser = configparser.ConfigParser()
    parser.read(config_dir / "clouds.config")
    return parser.has_section(CLOUD)


def _run(az: str, args: list[str], env: dict, shown: list[str] | None = None) -> None:
    print(f"$ az {' '.join(shown or args)}", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run([az, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=300)
    except OSError as exc:
        raise UserError(f"cannot run {az}: {exc.strerror}; {INSTALL_HINT}.") from None
    except subprocess.TimeoutExpired:
        raise UserError(f"'az {(shown or args)[0]}' did not finish in 300 s; is the emulator still running?") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise UserError(f"'az {' '.join(shown or args)}' failed (exit {proc.returncode}): "
                        f"{detail[-1] if detail else 'no message'}", code=1)


def login(endpoints_path, az: str) -> tuple[Path, str]:
    """Register the emulator as az's cloud and log its default principal in; (config dir, CA bundle)."""
    from arclink.endpoints import EndpointsError, locate, missing_principal, read_endpoints

    try:
        ep = read_endpoints(endpoints_path)
    except EndpointsError as exc:
        raise UserError(str(exc)) from None
    missing = missing_principal(ep)
    if missing:
        raise UserError(f"{locate(endpoints_path)} has no {', '.join(missing)}: it was written by an arclink serve "
                        "without a token service. Restart 'arclink serve' to rewrite it.")
    state_dir = Path(ep.get("state_dir") or locate(endpoints_path).parent)
    config_dir = state_dir / "az"
    write_settings(config_dir)
    env = az_environment(config_dir, ep["ca_cert"])
    verb = "update" if _cloud_registered(config_dir) else "register"
    _run(az, ["cloud", verb, "-n", CLOUD, "--endpoint-resource-manager", ep["arm"]], env)
    _run(az, ["cloud", "set", "-n", CLOUD], env)
    # "--password=..." in one word: a secret may begin with "-", which az would read as an option
    _run(az, ["login", "--service-principal", "-u", ep["client_id"], f"--password={ep['client_secret']}",
              "--tenant", ep["tenant"]], env,
         shown=["login", "--service-principal", "-u", ep["client_id"], "--password=***", "--tenant", ep["tenant"]])
    return config_dir, ep["ca_cert"]


def run(args) -> int:
    az = find_az(args.az)
    if az is None:
        where = f"{args.az} is not an executable file" if args.az else "az (the Azure CLI) is not on PATH"
        raise UserError(f"{where}; {INSTALL_HINT}.")
    config_dir, ca = login(args.emulator, az)
    print(f"export AZURE_CONFIG_DIR={shlex.quote(str(config_dir))}")
    print(f"export REQUESTS_CA_BUNDLE={shlex.quote(ca)}")
    print(f"# az is logged in to the emulator; run the lines above (or eval \"$(arclink az-login ...)\") "
          f"so az in this shell uses it.", file=sys.stderr)
    return 0
