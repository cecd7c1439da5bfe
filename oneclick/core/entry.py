"""How an entry point runs: logging set up, bad input as one line on stderr and exit code 2."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from oneclick.core.errors import DataError, missing_input, readable

log = logging.getLogger("oneclick")


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
