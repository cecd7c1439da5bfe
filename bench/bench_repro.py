"""Wall time of the pipeline on the store's real files, as a user runs it.

In a throw-away copy of the project (git-tracked files only, so nothing real-derived ever lands in
the working tree), with `data.raw_dir` pointed at the real files:
1. a cold `dvc repro` of the whole pipeline (empty cache);
2. `dvc repro -f -s shap` (the explanation stage alone, forced);
3. `segment.threshold` changed, then `dvc repro`: which stages ran, and how long it took.
Prints a table of wall seconds and the headline metrics. Goals: cold ≤ 60 s, shap ≤ 30 s,
segment-only rerun ≤ 5 s on 2 cores.

    python -m bench.bench_repro [--raw-dir ../shared/data/oneclick] [--threshold 0.6]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from oneclick.core import entry, errors, paths

GOALS = {"cold dvc repro": 60.0, "dvc repro -f -s shap": 30.0, "segment.threshold rerun": 5.0}


def timed(args: list[str], cwd: Path) -> tuple[float, str]:
    """Run a command in cwd with this venv first on PATH; wall seconds and its output."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise errors.DataError(f"{' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return wall, done.stdout + done.stderr


def copy_project(dst: Path) -> None:
    """Tracked files only, as a fresh clone has them, in a new git repo (DVC needs one)."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=paths.ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for rel in filter(None, files):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths.ROOT / rel, dst / rel)
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)


def set_param(repo: Path, group: str, key: str, value: object) -> None:
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params[group][key] = value
    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, default=paths.ROOT.parent / "shared/data/oneclick")
    parser.add_argument("--threshold", type=float, default=0.6)
    args = parser.parse_args()
    if not args.raw_dir.is_dir():
        raise errors.DataError(f"{args.raw_dir}: no such directory (the real files)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        copy_project(repo)
        set_param(repo, "data", "raw_dir", str(args.raw_dir.resolve()))
        rows.append(("cold dvc repro", *timed(["dvc", "repro"], repo)))
        rows.append(("dvc repro -f -s shap", *timed(["dvc", "repro", "-f", "-s", "shap"], repo)))
        set_param(repo, "segment", "threshold", args.threshold)
        rows.append(("segment.threshold rerun", *timed(["dvc", "repro"], repo)))
        metrics = {
            name: json.loads((repo / "metrics" / f"{name}.json").read_text(encoding="utf-8"))
            for name in ("train", "evaluate", "segment")
        }
    print(f"nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, raw {args.raw_dir}")
    print(f"{'run':<26}{'wall s':>8}{'goal s':>8}  stages run")
    for name, wall, output in rows:
        ran = ", ".join(re.findall(r"Running stage '(\w+)'", output))
        print(f"{name:<26}{wall:>8.1f}{GOALS[name]:>8.0f}  {ran}")
    protocol, test = metrics["evaluate"]["protocol"], metrics["evaluate"]["test"]
    print(
        f"protocol roc_auc {protocol['roc_auc_mean']:.4f} ± {protocol['roc_auc_se']:.4f} "
        f"({protocol['folds']} folds), log_loss {protocol['log_loss_mean']:.4f}; "
        f"test roc_auc {test['roc_auc']:.4f}, brier {test['brier']:.4f}"
    )


if __name__ == "__main__":
    entry.run(main)
