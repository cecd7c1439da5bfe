"""How an entry point runs: logging set up, bad input as one line on stderr and exit code 2."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from oneclick.core.errors import DataError, missing_input

log = logging.getLogger("oneclick")


def run(main: Callable[[], None]) -> None:
    """Run a stage's main(): bad input or a missing upstream file becomes one line on stderr and
    exit code 2, no traceback."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        main()
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except FileNotFoundError as error:  # run by hand before the stages whose outputs it reads
        print(f"error: {missing_input(error.filename or str(error))}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
