"""How an entry point runs: logging set up, bad input as one line on stderr and exit code 2."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

from oneclick.core.errors import DataError, missing_input, readable

log = logging.getLogger("oneclick")


class Progress:
    """When a long loop reports, and the time it has left: at most every `every` seconds, never
    after the last item, the clock starting when the first item is done (worker start-up and
    numba's first compilation say nothing about the rest)."""

    def __init__(self, total: float, every: float) -> None:
        self.total, self.every = total, every
        self.start: float | None = None

    def left(self, done: float) -> float | None:
        """Seconds left, if a line is due now with `done` of `total` items done; else None."""
        now = time.monotonic()
        if self.start is None:
            self.start, self.start_done, self.last = now, done, now
            return None
        if now - self.last < self.every or done >= self.total:
            return None
        self.last = now
        return (now - self.start) / (done - self.start_done) * (self.total - done)


def fail(message: object) -> None:
    """The one place an error reaches the user: one readable line on stderr (errors.readable)."""
    print(f"error: {readable(str(message))}", file=sys.stderr)


def run(main: Callable[[], None]) -> None:
    """Run a stage's main(): bad input or a missing upstream file becomes one line on stderr and
    exit code 2, no traceback."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        main()
    except DataError as error:
        fail(error)
        sys.exit(2)
    except FileNotFoundError as error:  # run by hand before the stages whose outputs it reads
        fail(missing_input(error.filename or str(error)))
        sys.exit(2)
    except KeyboardInterrupt:
        fail("interrupted")
        sys.exit(130)
