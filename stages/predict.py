"""Scoring command, kept beside the stages for `python -m stages.predict`: the same as
`oneclick predict` (see `oneclick predict --help`; the code is oneclick/scoring/batch.py)."""

from __future__ import annotations

import sys

from oneclick.cli import main

if __name__ == "__main__":
    main(["predict", *sys.argv[1:]])
