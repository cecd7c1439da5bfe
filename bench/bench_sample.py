"""Sample generator at scale: wall time, CPU time and peak memory per customer count.

Each size runs in its own child process (so sizes do not mask each other's peak RSS, which comes
from os.wait4): the child generates the customers and writes the four files to a temp dir, timing
the two phases; the parent adds the child's whole wall time (interpreter start and imports too).

    python -m bench.bench_sample [--sizes 10000 100000 1000000] [--seed 20261123]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from oneclick.core import config, entry, errors, paths

SIZES = (10_000, 100_000, 1_000_000)
GOAL = {"customers": 1_000_000, "wall_s": 60.0, "rss_mb": 4096.0}  # MB = 2**20 bytes


def child(n: int, seed: int, output: Path) -> None:
    """Generate and write n customers; print the phase timings as JSON."""
    from oneclick.sample import files as sample

    start = time.perf_counter()
    frames = sample.generate(n, seed)
    generated = time.perf_counter()
    sample.write_files(frames, output)
    written = time.perf_counter()
    size = sum(p.stat().st_size for p in output.iterdir())
    print(
        json.dumps(
            {"generate_s": generated - start, "write_s": written - generated, "mb": size / 1e6}
        )
    )


def run_size(n: int, seed: int, workdir: Path) -> dict[str, float]:
    """One size in a child process: its phases, wall and CPU seconds and peak RSS (MB)."""
    args = [
        sys.executable,
        "-m",
        "bench.bench_sample",
        "--child",
        str(n),
        "--seed",
        str(seed),
        "--output",
        str(workdir / f"n{n}"),
    ]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=paths.ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)  # reaps the child and gives its own rusage
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode(errors="replace").strip()
    if os.waitstatus_to_exitcode(status) != 0:
        raise errors.DataError(f"bench child for {n} customers failed: {text[-300:]}")
    return {
        **json.loads(text.splitlines()[-1]),
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
    }


def table(results: dict[int, dict[str, float]]) -> str:
    head = ["customers", "generate s", "write s", "wall s", "CPU s", "peak RSS MB", "files MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for n, r in results.items():
        cells = [f"{n:,}", *(f"{r[k]:.2f}" for k in ("generate_s", "write_s", "wall_s", "cpu_s"))]
        lines.append("| " + " | ".join([*cells, f"{r['rss_mb']:.0f}", f"{r['mb']:.1f}"]) + " |")
    top = results.get(GOAL["customers"])
    if top:
        ok = top["wall_s"] <= GOAL["wall_s"] and top["rss_mb"] <= GOAL["rss_mb"]
        goal = f"goal ≤ {GOAL['wall_s']:.0f} s and ≤ {GOAL['rss_mb']:.0f} MB peak RSS for 1,000,000"
        lines += ["", f"{goal}: {'met' if ok else 'NOT met'}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--seed", type=int, default=config.load_params()["sample"]["seed"])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.seed, args.output)
        return
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_sample_") as tmp:
        for n in args.sizes:
            results[n] = run_size(n, args.seed, Path(tmp))
            entry.log.info("bench: %d customers in %.1f s", n, results[n]["wall_s"])
    print(table(results))


if __name__ == "__main__":
    entry.run(main)
