"""Cost of the pipeline on the store's real files, as a user runs it, in one run.

In a throw-away copy of the project (git-tracked files only, so nothing real-derived ever lands in
the checkout), with `data.raw_dir` pointed at the real files, times in this order:
1. the import floor: one `python -c` importing the stage modules' heavy dependencies;
2. a cold `dvc repro` (empty cache), then a no-op `dvc repro`;
3. `dvc repro -f -s shap` and `dvc repro -f -s evaluate` (one stage, forced);
4. `dvc exp run -S segment.threshold=...` and `dvc exp run -S train.svc.C=...` (end to end).
Wall seconds, CPU seconds (user + system of the waited-for children, from rusage) and the 1-minute
load average at the start of each. The machine may be shared, so the figures to quote are the
ratios to the import floor measured in the same run. Writes them to --markdown (aggregates only).

    python -m bench.bench_repro [--raw-dir ../shared/data/oneclick] [--markdown bench/REPRO.md]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from oneclick.core import entry, errors, paths

HEAVY_IMPORTS = "import numpy, pandas, scipy, sklearn, matplotlib.pyplot, openpyxl, skops.io, yaml"
GOALS_WALL_S = {"cold": 30.0, "shap": 10.0, "evaluate": 12.0, "train": 25.0}
COMMAND = "make bench-repro"


def timed(args: list[str], cwd: Path) -> dict:
    """Run a command in cwd with this venv first on PATH: wall, CPU seconds, load, stages run."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise errors.DataError(f"{' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    ran = re.findall(r"Running stage '(\w+)'", done.stdout + done.stderr)
    return {"command": " ".join(args), "wall": wall, "cpu": cpu, "load": load, "ran": ran}


def git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@local"]
    subprocess.run(["git", *identity, *args], cwd=repo, check=True, capture_output=True)


def copy_project(dst: Path, raw_dir: Path) -> None:
    """Tracked files only, as a fresh clone has them, in a new git repo pointed at raw_dir."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=paths.ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for rel in filter(None, files):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths.ROOT / rel, dst / rel)
    params = dst / "params.yaml"
    text = params.read_text(encoding="utf-8")
    # A text edit, not a YAML round trip: the comments and key order stay as committed.
    text, count = re.subn(r"(?m)^(  raw_dir:) \S+", rf"\1 {raw_dir}", text, count=1)
    if count != 1:
        raise errors.DataError(f"{params}: data.raw_dir not found")
    params.write_text(text, encoding="utf-8")
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", "bench baseline")


def measure(repo: Path, threshold: float, svc_c: float) -> list[tuple[str, dict]]:
    rows = [("import floor", timed([sys.executable, "-c", HEAVY_IMPORTS], repo))]
    rows.append(("cold", timed(["dvc", "repro"], repo)))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "bench: reproduced")  # experiments start from the repro
    rows.append(("no-op", timed(["dvc", "repro"], repo)))
    rows.append(("shap", timed(["dvc", "repro", "-f", "-s", "shap"], repo)))
    rows.append(("evaluate", timed(["dvc", "repro", "-f", "-s", "evaluate"], repo)))
    segment = ["dvc", "exp", "run", "-S", f"segment.threshold={threshold}"]
    rows.append(("segment", timed(segment, repo)))
    git(repo, "checkout", "-q", "--", ".")  # back to the reproduced baseline before the next one
    timed(["dvc", "checkout", "-q", "-f"], repo)
    rows.append(("train", timed(["dvc", "exp", "run", "-S", f"train.svc.C={svc_c}"], repo)))
    return rows


def markdown(rows: list[tuple[str, dict]], raw_dir: Path) -> str:
    floor = rows[0][1]
    lines = [
        "# The pipeline's cost on the real files",
        "",
        f"Written by `{COMMAND}` (bench/bench_repro.py) in one run on the store's real files "
        f"({raw_dir.name}/), in a throw-away copy of the project with an empty DVC cache. CPU s "
        "= user + system of the waited-for children (rusage); load = 1-minute load average at the "
        "start. The machine is shared: quote the ratios to the import floor, measured in the same "
        f"run. nproc {os.cpu_count()}, Python {sys.version.split()[0]}.",
        "",
        "| run | command | wall s | CPU s | wall / floor | CPU / floor | load | goal wall s "
        "| stages run |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows:
        goal = GOALS_WALL_S.get(name)
        goal_text = f"≤ {goal:.0f} ({'met' if row['wall'] <= goal else 'not met'})" if goal else ""
        command = row["command"].replace(sys.executable, "python")
        lines.append(
            f"| {name} | `{command}` | {row['wall']:.1f} | {row['cpu']:.1f} "
            f"| {row['wall'] / floor['wall']:.1f}× | {row['cpu'] / floor['cpu']:.1f}× "
            f"| {row['load']:.1f} | {goal_text} | {', '.join(row['ran'])} |"
        )
    lines += [
        "",
        f'Import floor: `python -c "{HEAVY_IMPORTS}"`. Goals (issue 20) are wall seconds on a '
        "quiet 2-core machine; on a loaded one, read the ratios.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, default=paths.ROOT.parent / "shared/data/oneclick")
    parser.add_argument("--threshold", type=float, default=0.6)
    parser.add_argument("--svc-c", type=float, default=2.0)
    parser.add_argument("--markdown", type=Path, help="write the table here (e.g. bench/REPRO.md)")
    args = parser.parse_args()
    if not args.raw_dir.is_dir():
        raise errors.DataError(f"{args.raw_dir}: no such directory (the real files)")
    raw_dir = args.raw_dir.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        copy_project(repo, raw_dir)
        rows = measure(repo, args.threshold, args.svc_c)
    text = markdown(rows, raw_dir)
    print(text, end="")
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    entry.run(main)
