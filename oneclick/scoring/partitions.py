"""predict's input: each of the four files is one CSV (market_file.csv) or a directory of that
name holding its parts (market_file.csv/part-00000.csv, ...), as Spark or dask.dataframe's
to_csv write a large table. Each part passes the same reading checks as a whole file, its
errors naming the part; the parts join in natural name order (part-2 before part-10), and every
part must have the first one's columns.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from oneclick.core.errors import DataError
from oneclick.data.contract import INPUT_FILES, InputFile
from oneclick.data.reading import TEXT_KINDS, exact_ids, listed, read_file

NOT_PARTS = ("_", ".")  # _SUCCESS, .part.crc: markers and checksums a job writes beside its parts


def read_input(directory: Path) -> dict[str, pd.DataFrame]:
    """The four input files of a directory, keyed by contract key; a file may be partitioned."""
    tables = {}
    for spec in INPUT_FILES:
        path = Path(directory) / spec.filename
        tables[spec.key] = read_parts(path, spec) if path.is_dir() else read_file(path, spec)
    return tables


def natural_order(path: Path) -> list[int | str]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def read_parts(directory: Path, spec: InputFile) -> pd.DataFrame:
    """The parts of one partitioned file as one frame, as if they were one file."""
    parts = sorted(
        (p for p in directory.iterdir() if p.is_file() and not p.name.startswith(NOT_PARTS)),
        key=natural_order,
    )
    if not parts:
        raise DataError(f"{spec.filename}/: a directory without part files")
    frames: list[pd.DataFrame] = []
    for part in parts:
        frame = read_file(part, replace(spec, filename=f"{spec.filename}/{part.name}"))
        if frames and set(frame.columns) != set(frames[0].columns):
            missing = [c for c in frames[0].columns if c not in frame.columns]
            extra = [c for c in frame.columns if c not in frames[0].columns]
            differ = "; ".join(
                f"{what} column(s) {listed(names)}"
                for what, names in (("missing", missing), ("extra", extra))
                if names
            )
            raise DataError(
                f"{spec.filename}/{part.name}: {differ}, unlike {spec.filename}/{parts[0].name}"
            )
        frames.append(frame)
    return joined(frames, spec)


def joined(frames: list[pd.DataFrame], spec: InputFile) -> pd.DataFrame:
    """Concatenated parts with the dtypes one file gets: text as categories, ids as int64 when
    every id is one (else as distinct texts, for validation to name)."""
    whole = pd.concat(frames, ignore_index=True)
    for column in (c for c in spec.columns if c.source in whole):
        values = whole[column.source]
        if column.kind in TEXT_KINDS and not isinstance(values.dtype, pd.CategoricalDtype):
            whole[column.source] = values.astype("category")  # parts of different categories
        elif column.kind == "id" and values.dtype != np.int64:
            whole[column.source] = exact_ids(values.astype(object).map(str, na_action="ignore"))
    return whole
