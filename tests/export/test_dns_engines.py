"""On-premises DNS configs, proven by the engines that run them.

Each engine checks its generated config (named-checkconf -z, unbound-checkconf,
dnsmasq --test), then starts on 127.0.0.1 with it and must answer the seed's three
troubleshooting names with the addresses ``model.resolve.resolve()`` gives for the site.
Forwarder design: the forwarder address is mapped to the loopback stand-in of the
resolver inbound endpoint (see conftest). Everything else ("upstream") also goes to the
stand-in, so no engine ever recurses to the internet.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from arclink import export
from arclink.export.onprem import Options, Server
from arclink.model import catalogue as cat
from arclink.model.resolve import View, resolve
from tests.conftest import require_tool
from tests.export.conftest import a_records, free_port

SITE = "store-amsterdam"
DESIGNS = ("forwarder", "manual")


def expected(ix, site: str) -> dict[str, list[str]]:
    return {n: sorted(resolve(ix, View("site", site), n).addresses) for n in cat.SEED_CHECK_NAMES}


def render(kind, ix, tmp_path: Path, design: str, relay_port: int, port: int) -> Path:
    fwd_ip = str(next(iter(ix.forwarders.values())).ip)
    relay = Server("127.0.0.1", relay_port)
    opts = Options(design=design, listen=Server("127.0.0.1", port), address_map={fwd_ip: relay}, upstream=relay,
                   workdir=str(tmp_path))
    files = export.render(kind, ix, site=SITE, dns_options=opts)
    export.write(files, tmp_path)
    return tmp_path


def check_answers(ix, port: int):
    want = expected(ix, SITE)
    assert all(want.values()) and all(cat.is_private(a) for v in want.values() for a in v)
    got = {n: a_records(port, n) for n in cat.SEED_CHECK_NAMES}
    assert got == want


@pytest.mark.parametrize("design", DESIGNS)
def test_bind(design, good_index, resolver_standin, engines, tmp_path):
    checkconf = require_tool("named-checkconf")
    named = require_tool("named")
    port = free_port()
    d = render("bind", good_index, tmp_path, design, resolver_standin.port, port)
    conf = d / "named.conf"
    # Validation stays on (the stand-in upstream serves no signed root, so a validated name could
    # not resolve here); the three Arc names answer because only their zones are exempt.
    text = conf.read_text()
    assert "dnssec-validation auto;" in text and "dnssec-validation no" not in text
    assert all(f'"{z}";' in text.split("validate-except")[1].split("};")[0] for z in cat.ARC_PUBLIC_ZONES)
    r = subprocess.run([checkconf, "-z", str(conf)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    engines([named, "-g", "-c", str(conf)], port, cat.SEED_CHECK_NAMES[0], tmp_path / "named.log")
    check_answers(good_index, port)


@pytest.mark.parametrize("design", DESIGNS)
def test_unbound(design, good_index, resolver_standin, engines, tmp_path):
    checkconf = require_tool("unbound-checkconf")
    unbound = require_tool("unbound")
    port = free_port()
    d = render("unbound", good_index, tmp_path, design, resolver_standin.port, port)
    conf = d / "unbound.conf"
    r = subprocess.run([checkconf, str(conf)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    engines([unbound, "-d", "-c", str(conf)], port, cat.SEED_CHECK_NAMES[0], tmp_path / "unbound.log")
    check_answers(good_index, port)


@pytest.mark.parametrize("design", DESIGNS)
def test_dnsmasq(design, good_index, resolver_standin, engines, tmp_path):
    dnsmasq = require_tool("dnsmasq")
    port = free_port()
    d = render("dnsmasq", good_index, tmp_path, design, resolver_standin.port, port)
    conf = d / "dnsmasq.conf"
    r = subprocess.run([dnsmasq, "--test", f"--conf-file={conf}"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    engines([dnsmasq, "--keep-in-foreground", "--log-facility=-", f"--conf-file={conf}"], port,
            cat.SEED_CHECK_NAMES[0], tmp_path / "dnsmasq.log")
    check_answers(good_index, port)


def test_forwarder_design_really_forwards(good_index, resolver_standin, engines, tmp_path):
    """The forwarder-design answers come from the resolver, not from local data."""
    dnsmasq = require_tool("dnsmasq")
    port = free_port()
    d = render("dnsmasq", good_index, tmp_path, "forwarder", resolver_standin.port, port)
    text = (d / "dnsmasq.conf").read_text()
    assert "host-record" not in text
    before = resolver_standin.queries
    engines([dnsmasq, "--keep-in-foreground", "--log-facility=-", f"--conf-file={d / 'dnsmasq.conf'}"], port,
            cat.SEED_CHECK_NAMES[0], tmp_path / "dnsmasq.log")
    check_answers(good_index, port)
    assert resolver_standin.queries > before


def test_cli_trial_run_on_loopback(good_index, resolver_standin, engines, tmp_path):
    """``arclink export dnsmasq --listen --map``: the written config runs as is from its directory."""
    import sys

    from tests.export.conftest import ROOT

    dnsmasq = require_tool("dnsmasq")
    port = free_port()
    fwd_ip = str(next(iter(good_index.forwarders.values())).ip)
    r = subprocess.run([sys.executable, "-m", "arclink", "export", "dnsmasq", str(ROOT / "examples" / "good.yaml"),
                        "-o", str(tmp_path), "--site", SITE, "--listen", f"127.0.0.1:{port}",
                        "--map", f"{fwd_ip}=127.0.0.1:{resolver_standin.port}"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    conf = tmp_path / "dnsmasq.conf"
    assert f"pid-file={tmp_path}/dnsmasq.pid" in conf.read_text()
    engines([dnsmasq, "--keep-in-foreground", "--log-facility=-", f"--conf-file={conf}"], port,
            cat.SEED_CHECK_NAMES[0], tmp_path / "dnsmasq.log")
    check_answers(good_index, port)
