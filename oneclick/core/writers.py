"""Deterministic, atomic writers: the same data gives the same bytes (rounded floats, sorted keys,
LF), and a failed write leaves the previous file as it was.

Every write goes to a temporary file in the target's folder, is flushed and fsynced, and then
renamed over the target (`os.replace`, atomic on one file system). A symbolic link at the target
or on its folder chain is refused, never followed (a planted link would send the bytes over a
file the project did not make). The temporary files a killed run left beside a target
(`.NAME.*.tmp`, git-ignored) are removed when that target is written next. A full disk, a file-size
limit or a permission problem therefore never leaves a truncated file that still looks valid;
it ends in one DataError naming the file and the cause. Inside `together()` the renames wait
until every write of the block has succeeded, so a stage never leaves a mix of new and old
outputs.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from oneclick.core.errors import DataError
from oneclick.core.paths import shown

if TYPE_CHECKING:
    import numpy as np

FLOAT_DECIMALS = 6  # rounding of every float written to a tracked file
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # every zip entry's date: the earliest a zip can hold

# errno -> the cause as a message names it
CAUSES = {
    errno.ENOSPC: "disk full (no space left on device)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large (file size limit reached)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOTDIR: "a parent of it is not a folder",
    errno.EISDIR: "it is a folder",
}

_pending: list[list[tuple[Path, Path]]] = []  # (temp file, target) per open together() block


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# mkstemp creates 0600 files; a replaced output gets the mode a plain open() would have given it
_FILE_MODE = 0o666 & ~_umask()


def write_error(path: Path, error: OSError) -> DataError:
    """One line naming the file and why writing it failed (and that an earlier one is intact)."""
    cause = CAUSES.get(error.errno or 0) or error.strerror or error.__class__.__name__
    kept = "; the previous file is unchanged" if Path(path).is_file() else ""
    return DataError(f"{shown(path)}: cannot write: {cause}{kept}")


def rounded(value: Any, decimals: int = FLOAT_DECIMALS) -> Any:
    """Recursively round floats (and numpy scalars) so JSON output is stable across runs."""
    if isinstance(value, dict):
        return {str(k): rounded(v, decimals) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, decimals) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        return round(value, decimals)
    return value


def round_floats(values: np.ndarray, decimals: int = FLOAT_DECIMALS) -> np.ndarray:
    """Floats at the precision the writers keep. Code paths that differ only in the last bits
    (BLAS kernels and thread splits depend on batch size and CPU) give the same rounded values,
    except for a value within a few ulp of a rounding midpoint (~1e-10 odds per value)."""
    import numpy as np

    return np.round(np.asarray(values, dtype="float64"), decimals)


@contextmanager
def atomic(path: Path, mode: str = "w", **open_args: Any) -> Iterator[IO[Any]]:
    """An open handle on a temporary file that replaces `path` when the block ends without error
    (at the end of the enclosing together() block, if any); on any error the temporary file is
    removed, `path` is untouched and OSErrors become one DataError line."""
    path = Path(path)
    link = symlink_on(path)
    if link is not None:
        raise DataError(
            f"{shown(path)}: cannot write: {shown(link)} is a symbolic link; not following it"
        )
    temp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        _remove_stale_temps(path)
        descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        temp = Path(name)
        with open(descriptor, mode, **open_args) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _FILE_MODE)
        if _pending:
            _pending[-1].append((temp, path))
        else:
            os.replace(temp, path)
            _sync_folders({path.parent})
        temp = None
    except OSError as error:
        raise write_error(path, error) from error
    finally:
        if temp is not None:
            with suppress(OSError):
                temp.unlink()


def symlink_on(path: Path) -> Path | None:
    """The first symbolic link on the absolute path (the path itself included), or None."""
    full = Path(os.path.abspath(path))
    for part in (*reversed(full.parents), full):
        if part.is_symlink():
            return part
    return None


def _remove_stale_temps(path: Path) -> None:
    """Delete the temporary files of earlier writes of `path` that never ended (a killed run);
    this process's own pending ones (an open together() block) stay."""
    pending = {temp for block in _pending for temp, _ in block}
    for stale in path.parent.glob(f".{glob.escape(path.name)}.????????.tmp"):
        if stale not in pending:
            with suppress(FileNotFoundError):
                stale.unlink()


def written(target: Path) -> Path:
    """Where target's new bytes are now: its temporary file while a `together` block has not
    renamed it yet (a page that inlines a plot written in the same block reads it there)."""
    for temp, staged in (pair for block in _pending for pair in block):
        if staged == target:
            return temp
    return target


@contextmanager
def together() -> Iterator[None]:
    """All-or-nothing writes: the atomic writes inside the block are renamed over their targets
    only once every one of them succeeded; on an error none is, and the temporary files go.
    A nested block joins the enclosing one."""
    if _pending:
        yield
        return
    _pending.append([])
    try:
        yield
    except BaseException:
        for temp, _ in _pending.pop():
            with suppress(OSError):
                temp.unlink()
        raise
    staged = _pending.pop()
    for done, (temp, target) in enumerate(staged):
        try:
            os.replace(temp, target)  # a rename: needs no space, so a full disk cannot stop it
        except OSError as error:
            for left, _ in staged[done:]:
                with suppress(OSError):
                    left.unlink()
            raise write_error(target, error) from error
    if staged:
        _sync_folders({target.parent for _, target in staged})


def _sync_folders(folders: set[Path]) -> None:
    """fsync the folders so the renames survive a crash (best effort: not every OS allows it)."""
    for folder in folders:
        with suppress(OSError):
            descriptor = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


def write_bytes(data: bytes, path: Path) -> None:
    with atomic(path, "wb") as handle:
        handle.write(data)


def write_text(text: str, path: Path) -> None:
    write_bytes(text.encode("utf-8"), path)


def write_json(data: Any, path: Path) -> None:
    """Write JSON with sorted keys, rounded floats and a trailing newline (diffs well in git)."""
    text = json.dumps(rounded(data), ensure_ascii=False, indent=2, sort_keys=True)
    write_text(text + "\n", path)


def write_csv(frame: Any, path: Path, index: bool = False) -> None:
    """Write a DataFrame as UTF-8 CSV with LF line ends and rounded floats."""

    # round to decimals (not significant digits): large revenues keep every digit
    def write(handle: IO[str]) -> None:
        frame.round(FLOAT_DECIMALS).to_csv(handle, index=index, lineterminator="\n")

    write_with(path, write)


def write_with(path: Path, write: Callable[[IO[str]], Any], encoding: str = "utf-8") -> None:
    """Atomically write a text file through `write(handle)`; the handle translates no line ends
    (the writer's own line terminator is kept, as when pandas opens the path itself)."""
    with atomic(path, "w", encoding=encoding, newline="") as handle:
        write(handle)


def save_figure(figure: Any, path: Path) -> None:
    """Save a matplotlib figure as PNG without timestamps or software metadata, then close it."""
    import matplotlib.pyplot as plt

    try:
        with atomic(path, "wb") as handle:
            figure.savefig(
                handle, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None}
            )
    finally:
        plt.close(figure)


def setup_matplotlib() -> None:
    """Headless, deterministic matplotlib (fixed hash salt for SVG ids, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "oneclick"
    matplotlib.rcParams["figure.max_open_warning"] = 0
