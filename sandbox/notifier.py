"""A sandbox's background sender of webhook notifications, as a platform's own delivery workers.

A host class (the Squarespace and TradeGecko sandboxes' hooks) defines `_notifier_tick(transport)`,
one pass over what is due; `start_notifier` runs it every `interval` seconds from a daemon thread
until `stop_notifier` (or the sandbox's `stop`).
"""

from __future__ import annotations

import threading
from typing import Any


class BackgroundNotifier:
    notifier_name = "sandbox-notifier"
    _notifier: threading.Thread | None = None
    _notifier_stop: threading.Event | None = None

    def _notifier_tick(self, transport: Any) -> None:
        raise NotImplementedError

    def start_notifier(self, interval: float = 0.5, transport: Any = None) -> None:
        """Send what is due every `interval` seconds from a background thread (a running demo)."""
        if self._notifier is not None:
            return
        stop = self._notifier_stop = threading.Event()

        def loop() -> None:
            while not stop.wait(interval):
                self._notifier_tick(transport)

        self._notifier = threading.Thread(target=loop, name=self.notifier_name, daemon=True)
        self._notifier.start()

    def stop_notifier(self) -> None:
        if self._notifier_stop is not None:
            self._notifier_stop.set()
        if self._notifier is not None:
            self._notifier.join(timeout=5)
        self._notifier, self._notifier_stop = None, None

    def stop(self) -> None:
        self.stop_notifier()
        super().stop()  # type: ignore[misc]
