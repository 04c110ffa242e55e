"""A small in-process token bucket per client: an API token (by a digest of its header, so no
secret is kept) or, without one, the network address. It guards the open-data services (OData,
the catalogue, JSON-stat, Data Package, SDMX), which tools such as Power BI and harvesters call
in long bursts; over the limit a client gets 429 with Retry-After.

In-process: each server process counts on its own (several workers allow a multiple). The site's
own JSON API is not limited here: its pages call it for every visitor."""

from __future__ import annotations

import hashlib
import math
import time
from threading import Lock

from fastapi import Request

from obmi.errors import TooManyRequests
from obmi.web.deps import client_address

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


def retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def open_data_wait(request: Request) -> float:
    """Takes one request from the caller's bucket: 0 when it may go on, else the seconds to wait."""
    state = request.app.state
    bucket = getattr(state, "open_data_limiter", None)
    if bucket is None:
        settings = state.settings
        bucket = state.open_data_limiter = TokenBucket(settings.open_data_rate_per_minute,
                                                       settings.open_data_rate_burst)
    return bucket.take(client_key(request.headers.get("authorization", ""), client_address(request)))


def open_data_rate_limit(request: Request) -> None:
    """A route dependency: refuses a request over the caller's limit (429, see web/errors.py)."""
    wait = open_data_wait(request)
    if wait:
        raise TooManyRequests("too many requests: retry later", retry_after=retry_after(wait))
