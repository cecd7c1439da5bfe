"""Scoring at scale: wall time, CPU time and peak memory of `stages.predict` per customer count.

For each size: the sample generator writes the four files to a temp dir (timed separately), then
`python -m stages.predict` scores them exactly as a user would run it, in a child process whose
peak RSS comes from os.wait4 (per child, so sizes do not mask each other). Phase times come from
predict's `--timings` JSON. Needs the trained model: run `make repro` first.

    python -m bench.bench_scale [--sizes 10000 100000 1000000] [--markdown bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from oneclick.core import entry, errors, paths, writers

SIZES = (10_000, 100_000, 1_000_000)
SEED = 20261123
GOAL = {"customers": 1_000_000, "wall_s": 60.0, "rss_mb": 4096.0}  # MB = 2**20 bytes
HEADER = f"""# Scoring at scale

Written by `make bench` (bench/bench_scale.py): generated customers (stages.sample, seed
{SEED}) scored by `python -m stages.predict` in a child process. Wall and CPU seconds and peak
RSS are the child's (os.wait4), in MB of 2**20 bytes (1024 MB = 1 GiB); phase seconds come from
predict's `--timings`."""
NOTES = """Phases: load_model = md5 checks against dvc.lock (model, data/features, data/shap)
and loading the skops model, feature spec, training part and SHAP tables; read/clean = the
cleaning contract (input_reading.read_raw, clean.clean_tables); merge_features = merge +
engineered features; model = P(declined), chunks on threads; drivers = segment selection + SHAP
for segment customers only (`neighbours`: SHAP borrowed from the nearest customers the shap
stage explained; `shap`: the shap stage's own explainer); offers = segment.segment_customers
(rules per customer); write = the output CSV. Wall time depends on what else runs on the
machine: see the load average and compare CPU seconds."""


def run_child(args: list[str]) -> dict[str, float]:
    """Run a command to the end; its wall seconds, CPU seconds and peak RSS (MB)."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        child = subprocess.Popen(args, cwd=paths.ROOT, stdout=subprocess.DEVNULL, stderr=log)
        # os.wait4 (not child.wait) reaps the child and returns its own rusage
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-5:]
            raise errors.DataError(f"{' '.join(args[1:])} failed ({code}): " + " / ".join(tail))
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
    }


def bench_size(n: int, workdir: Path, drivers: str, chunk_size: int | None) -> dict[str, Any]:
    data, timings = workdir / f"in_{n}", workdir / "run.json"
    scores = workdir / f"scores_{n}_{drivers}.csv"
    python = sys.executable
    if not data.is_dir():
        generated = run_child(
            [
                python,
                "-m",
                "stages.sample",
                "--output",
                str(data),
                "--n-customers",
                str(n),
                "--seed",
                str(SEED),
            ]
        )
    else:
        generated = {"wall_s": float("nan")}
    args = [
        python,
        "-m",
        "stages.predict",
        "--input",
        str(data),
        "--output",
        str(scores),
        "--timings",
        str(timings),
        "--drivers",
        drivers,
    ]
    if chunk_size:
        args += ["--chunk-size", str(chunk_size)]
    score = run_child(args)
    run = json.loads(timings.read_text(encoding="utf-8"))
    run["scored"] = run.pop("customers")
    return {"customers": n, "generate": generated, "score": score, "output": scores, **run}


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    ram_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cores (nproc)": str(os.cpu_count()),
        "CPU": cpu,
        "RAM": f"{ram_kb / 1024**2:.1f} GiB",
        "Python": platform.python_version(),
        "load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def model_description() -> str:
    """The scored procedure: params.yaml's train members and metrics/train.json's fitted stack."""
    path = paths.METRICS_DIR / "train.json"
    if not path.is_file():
        return "unknown (no metrics/train.json)"
    fitted = json.loads(path.read_text(encoding="utf-8"))
    train = yaml.safe_load((paths.ROOT / "params.yaml").read_text(encoding="utf-8"))["train"]
    members = "; ".join(
        f"{name} ({', '.join(f'{k}={v}' for k, v in train[name].items())}, "
        f"meta weight {fitted['meta_weight'][name]:.3f})"
        for name in fitted["meta_weight"]
    )
    return (
        f"stack of {members}; meta logistic regression C={train['meta']['C']}; "
        f"SVC keeps {fitted['svc_features_kept']} features"
    )


def table(results: list[dict]) -> str:
    """Markdown table: one row per run; seconds per million customers shows linearity."""
    phase_names = list(results[0]["phases"])
    head = [
        "customers",
        "scored",
        "segment",
        "drivers",
        "generate s",
        *[f"{p} s" for p in phase_names],
        "scoring wall s",
        "scoring CPU s",
        "wall s / 1M",
        "peak RSS MB",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        score, n = r["score"], r["customers"]
        generated = r["generate"]["wall_s"]
        generated = "reused" if generated != generated else f"{generated:.1f}"  # NaN: reused
        cells = [f"{n:,}", f"{r['scored']:,}", f"{r['segment']:,}", r["drivers"], generated]
        cells += [f"{r['phases'][p]:.2f}" for p in phase_names]
        cells += [f"{score['wall_s']:.1f}", f"{score['cpu_s']:.1f}"]
        cells += [f"{score['wall_s'] / n * 1e6:.1f}", f"{score['rss_mb']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def agreement(results: list[dict]) -> str:
    """How often borrowed drivers give the same top driver and offers as the shap explainer."""
    import pandas as pd

    shap = next((r for r in results if r["drivers"] == "shap"), None)
    other = next(
        (
            r
            for r in results
            if r["drivers"] != "shap" and shap and r["customers"] == shap["customers"]
        ),
        None,
    )
    if not (shap and other):
        return ""
    from oneclick.scoring.batch import segment_file

    columns = ["id", "driver_1", "offer_codes"]  # segment rows: predict's second file
    a, b = (
        pd.read_csv(segment_file(Path(r["output"])), usecols=columns).dropna(subset=["driver_1"])
        for r in (shap, other)
    )
    both = a.merge(b, on="id", suffixes=("_shap", "_other"))
    same_driver = (both["driver_1_shap"] == both["driver_1_other"]).mean()
    same_offers = (both["offer_codes_shap"] == both["offer_codes_other"]).mean()
    return (
        f"Drivers by `{other['drivers']}` vs the shap stage's explainer, {shap['customers']:,} "
        f"customers ({len(both):,} in the segment): same top decline driver for "
        f"{same_driver:.0%}, same offers for {same_offers:.0%}."
    )


def verdict(results: list[dict]) -> str:
    top = next((r for r in results if r["customers"] == GOAL["customers"]), None)
    if top is None:
        return "goal not measured (1,000,000 customers not in --sizes)"
    wall, rss = top["score"]["wall_s"], top["score"]["rss_mb"]
    ok = wall <= GOAL["wall_s"] and rss <= GOAL["rss_mb"]
    return (
        f"goal ≤ {GOAL['wall_s']:.0f} s and ≤ {GOAL['rss_mb']:.0f} MB ({GOAL['rss_mb'] / 1024:.0f} "
        f"GiB) peak RSS for 1,000,000 customers: {'met' if ok else 'NOT met'} ({wall:.1f} s, "
        f"{rss:.0f} MB = {rss / 1024:.2f} GiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--drivers", default="neighbours", help="stages.predict --drivers")
    parser.add_argument(
        "--shap-size",
        type=int,
        default=SIZES[0],
        help="one more run of this size with --drivers shap (0: none)",
    )
    parser.add_argument("--chunk-size", type=int, default=None, help="stages.predict option")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args()
    info = {**machine(), "model": model_description()}
    runs = [(n, args.drivers) for n in args.sizes]
    if args.shap_size:
        runs.append((args.shap_size, "shap"))
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        for n, drivers in runs:
            entry.log.info("bench: %d customers, drivers by %s", n, drivers)
            results.append(bench_size(n, Path(tmp), drivers, args.chunk_size))
            wall = results[-1]["score"]["wall_s"]
            entry.log.info("bench: %d customers scored in %.1f s", n, wall)
        agree = agreement(results)  # reads the outputs: before the temp dir goes
    report = "\n".join(
        [
            HEADER,
            "",
            "| machine | |",
            "|---|---|",
            *[f"| {k} | {v} |" for k, v in info.items()],
            "",
            table(results),
            "",
            verdict(results),
            "",
            agree,
            "",
            NOTES,
        ]
    )
    print(report)
    if args.markdown:
        writers.write_text(report + "\n", args.markdown)


if __name__ == "__main__":
    entry.run(main)
