"""Flow control: data frames may be sent only against credits the coordinator grants."""

from __future__ import annotations

import threading


class Credits:
    """A counter shared by the reader threads; `take` blocks while it is zero (the kernel then overwrites)."""

    def __init__(self, initial: int = 0) -> None:
        self.cond = threading.Condition()
        self.value = initial
        self.cancelled = False

    def grant(self, n: int) -> None:
        with self.cond:
            self.value += n
            self.cond.notify_all()

    def reset(self, n: int) -> None:
        with self.cond:
            self.value = n
            self.cancelled = False
            self.cond.notify_all()

    def cancel(self) -> None:
        """Wake every waiter with a refusal (shutdown: nothing more will be sent)."""
        with self.cond:
            self.cancelled = True
            self.cond.notify_all()

    def take(self) -> bool:
        """Take one credit, waiting as long as needed; False when cancelled."""
        with self.cond:
            while self.value <= 0 and not self.cancelled:
                self.cond.wait()
            if self.cancelled:
                return False
            self.value -= 1
            return True
