"""Connectivity status per cluster, as the gateway sees it, and its report to the emulator.

The emulator gives the gateway one callback, ``record(cluster_id, status, code, reason, when)``,
and shows what it receives on the connectedCluster (connectivityStatus, lastConnectivityTime,
the refusal reason). Heartbeats arrive thousands of times a second in a fleet, so the callback
is called on a change of status, and while Connected at most once per ``touch_interval``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger("arclink.gateway")

Recorder = Callable[[str, str, str, str, dt.datetime], None]


@dataclass
class ClusterStatus:
    status: str = "Connecting"
    code: str = ""
    reason: str = ""
    last_heartbeat: float = 0.0  # monotonic
    last_connectivity: dt.datetime | None = None
    last_reported: float = 0.0  # monotonic, of the last report while Connected

    def to_dict(self) -> dict:
        return {"connectivityStatus": self.status, "code": self.code, "reason": self.reason,
                "lastConnectivityTime": self.last_connectivity.isoformat() if self.last_connectivity else None}


class Tracker:
    def __init__(self, record: Recorder | None, touch_interval: float, offline_after: float):
        self.record = record
        self.touch_interval = touch_interval
        self.offline_after = offline_after
        self.clusters: dict[str, ClusterStatus] = {}

    def _report(self, cid: str, st: ClusterStatus, when: dt.datetime) -> None:
        if self.record is None:
            return
        try:
            self.record(cid, st.status, st.code, st.reason, when)
        except Exception:  # the emulator's problem must not take the gateway down
            log.exception("recording connectivity of %s failed", cid)

    def heartbeat(self, cid: str) -> ClusterStatus:
        now, when = time.monotonic(), dt.datetime.now(dt.timezone.utc)
        st = self.clusters.setdefault(cid, ClusterStatus())
        changed = st.status != "Connected"
        st.status, st.code, st.reason = "Connected", "Admitted", ""
        st.last_heartbeat, st.last_connectivity = now, when
        if changed or now - st.last_reported >= self.touch_interval:
            st.last_reported = now
            self._report(cid, st, when)
        return st

    def refused(self, cid: str, code: str, reason: str) -> ClusterStatus:
        """A refused cluster stays Connecting, or goes Offline if it was Connected."""
        st = self.clusters.setdefault(cid, ClusterStatus())
        new = "Offline" if st.status in ("Connected", "Offline") else "Connecting"
        if (new, code, reason) != (st.status, st.code, st.reason):
            st.status, st.code, st.reason = new, code, reason
            self._report(cid, st, dt.datetime.now(dt.timezone.utc))
        return st

    def sweep(self) -> list[str]:
        """Connected clusters whose heartbeats stopped become Offline."""
        from arclink.model.wire import PROTOCOL_REASONS

        now, gone = time.monotonic(), []
        for cid, st in self.clusters.items():
            if st.status == "Connected" and now - st.last_heartbeat > self.offline_after:
                st.status, st.code = "Offline", "HeartbeatMissed"
                st.reason = f"{PROTOCOL_REASONS['HeartbeatMissed']} (none for {self.offline_after:g} s)"
                gone.append(cid)
                self._report(cid, st, dt.datetime.now(dt.timezone.utc))
        return gone
