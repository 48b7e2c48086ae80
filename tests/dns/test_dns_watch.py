"""``arclink dns serve --watch``: a change is seen however soon after loading it is made."""

from __future__ import annotations

import os

import yaml
from dns_fixtures import document

from arclink.cli import dns as dns_cli
from arclink.cli.main import main


class _FakeServer:
    host, port = "127.0.0.1", 5353

    def close(self) -> None:
        pass


def test_a_change_made_while_the_server_starts_is_reloaded(tmp_path, monkeypatch, capsys):
    """The baseline is the file as it was before loading: a write between the load and the readiness
    line (here: while the server starts) is a change the watcher reloads."""
    path = tmp_path / "watched.yaml"
    doc = document()
    path.write_text(yaml.safe_dump(doc))
    changed = dict(doc, privateDnsZones=[dict(z, virtualNetworkLinks=[]) for z in doc["privateDnsZones"]])
    handlers = {}
    published = []
    polls = []

    def start(live, host, port):
        path.write_text(yaml.safe_dump(changed))
        return _FakeServer()

    real_poll = dns_cli._Watcher.poll

    def poll(self, live):
        real_poll(self, live)
        polls.append(1)
        if published or len(polls) > 4:  # reloaded, or two seconds of polls without it: stop serving
            handlers[15]()

    from arclink.dns import server as dns_server
    from arclink.model import live as live_mod

    monkeypatch.setattr(dns_server, "start_dns_server", start)
    monkeypatch.setattr(dns_cli.signal, "signal", lambda sig, fn: handlers.__setitem__(int(sig), fn))
    monkeypatch.setattr(dns_cli._Watcher, "poll", poll)
    monkeypatch.setattr(live_mod.LiveState, "publish", lambda self, index: published.append(index) or 2)
    assert main(["dns", "serve", str(path), "--watch"]) == 0
    assert len(published) == 1, capsys.readouterr()
    assert "reloaded" in capsys.readouterr().out


def test_a_same_size_rewrite_in_the_same_clock_tick_is_seen(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("a: 1\n")
    watcher = dns_cli._Watcher(str(path))
    before = os.stat(path)
    path.write_text("a: 2\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime, same inode
    assert watcher.changed()
    assert not watcher.changed()  # seen once


def test_a_half_written_file_is_retried_at_its_next_change(tmp_path, capsys):
    path = tmp_path / "t.yaml"
    text = yaml.safe_dump(document())
    path.write_text(text)
    watcher = dns_cli._Watcher(str(path))

    class Live:
        def __init__(self):
            self.versions = []

        def publish(self, index):
            self.versions.append(index)
            return len(self.versions)

    live = Live()
    path.write_text(text[: len(text) // 2] + "\n  - [unclosed\n")
    watcher.poll(live)
    assert live.versions == [] and "not reloaded" in capsys.readouterr().err
    watcher.poll(live)  # no change since: not tried again
    assert "not reloaded" not in capsys.readouterr().err
    path.write_text(text)
    watcher.poll(live)
    assert len(live.versions) == 1 and "reloaded" in capsys.readouterr().out
