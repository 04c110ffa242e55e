"""A small in-process token bucket per client: an API token (by a digest of its header, so no
secret is kept) or, without one, the network address. Used by the OData service, which tools
such as Power BI call in long bursts; over the limit a client gets 429 with Retry-After.

In-process: each server process counts on its own (several workers allow a multiple)."""

from __future__ import annotations

import hashlib
import math
import time
from threading import Lock

MAX_CLIENTS = 10_000


class TokenBucket:
    def __init__(self, per_minute: int, burst: int, clock=time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # client → (tokens, when)
        self.lock = Lock()

    def take(self, client: str) -> float:
        """0 when the request may go on, else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self.lock:
            tokens, then = self.buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens >= 1:
                self.buckets[client] = (tokens - 1, now)
                if len(self.buckets) > MAX_CLIENTS:  # forget the longest-idle clients
                    for key, _ in sorted(self.buckets.items(), key=lambda kv: kv[1][1])[:MAX_CLIENTS // 10]:
                        del self.buckets[key]
                return 0.0
            self.buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate


def client_key(authorization: str, address: str) -> str:
    if authorization:
        return "auth:" + hashlib.sha256(authorization.encode()).hexdigest()[:32]
    return "addr:" + address


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
