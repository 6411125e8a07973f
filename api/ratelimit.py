"""Token buckets per identity, in process: each caller may make `burst` requests at once, then
`per_minute` a minute. A node behind several workers limits per worker; put a shared limiter
in the proxy in front when that matters."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBuckets:
    def __init__(
        self,
        per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_callers: int = 100_000,
    ) -> None:
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self.clock = clock
        self.max_callers = max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at
        self._lock = threading.Lock()

    def take(self, caller: str) -> float | None:
        """Spend one token: None when allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(caller, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[caller] = (tokens, now)
            if len(self._buckets) > self.max_callers:
                self._buckets.popitem(last=False)  # the caller idle the longest: it is full anyway
        if allowed:
            return None
        return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0
