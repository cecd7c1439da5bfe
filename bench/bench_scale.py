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
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from oneclick.core import entry, errors, paths, writers

SIZES = (10_000, 100_000, 1_000_000)
SEED = 20261123
GOAL = {"customers": 1_000_000, "wall_s": 60.0, "rss_mb": 4096.0}  # MB = 2**20 bytes
GOAL |= {"customers_65k": 65_000, "wall_65k_s": 1800.0, "rss_65k_mb": 8192.0}  # issue 22
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


def run_child(
    args: list[str], cwd: Path = paths.ROOT, cpu_cap: int | None = None
) -> dict[str, float]:
    """Run a command to the end; its wall seconds, CPU seconds and peak RSS (MB). With cpu_cap,
    the kernel stops it after that many CPU seconds (RLIMIT_CPU): then `capped` is True."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_cap, cpu_cap + 5))

    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        child = subprocess.Popen(
            args,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=log,
            preexec_fn=limit if cpu_cap else None,
        )
        # os.wait4 (not child.wait) reaps the child and returns its own rusage
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        stopped = -code in (signal.SIGXCPU, signal.SIGKILL)
        if cpu_cap and stopped:
            return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "capped": True}
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


# ---- the pipeline's growth (make bench-scale -> bench/SCALE.md) -------------------------------

PIPELINE_SIZES = (1_300, 5_000, 20_000, 65_000)
MODULES = {
    "sample": "stages.sample",
    "clean": "stages.clean",
    "merge": "stages.merge",
    "features": "stages.features",
    "train": "stages.train",
    "evaluate": "stages.evaluate",
    "shap": "stages.shap_values",
    "segment": "stages.segment",
}
# What every measured run changes in the copy's params.yaml: one process per stage (CPU and peak
# RSS of one process; the 2-core wall is estimated from them), one protocol repeat (evaluate and
# shap scale by evaluate.protocol_repeats: x REPEATS below), 2 SHAP paths per customer (shap's
# set-up, I/O and plots; the paths are measured apart, on a subset, and scaled by count).
MEASURED = {
    "evaluate.protocol_repeats": 1,
    "evaluate.n_jobs": 1,
    "shap.n_jobs": 1,
    "shap.n_paths": 2,
    "shap.n_paths_read": 2,
}
PARALLEL = ("evaluate", "shap")  # n_jobs 2 in params.yaml: their repeated part halves on 2 cores
READING = "\n## Reading"  # from this heading on, SCALE.md is written by hand and kept


def set_params(repo: Path, changes: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys of the copy's params.yaml set (comments are lost: a throw-away copy)."""
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = params
        for key in parents:
            node = node[key]
        node[leaf] = value
    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return params


def path_cost(n_read: int, n_other: int, n_paths: int, n_paths_read: int) -> None:
    """(Child process, in a copy) CPU s of one model's SHAP set-up, and per customer explained
    with n_paths_read / n_paths paths (the committed shap params): models/model.skops against
    its training rows, as each fold model is explained against its own. Prints JSON."""
    import pandas as pd

    from oneclick.core import config
    from oneclick.explain.explainers import explain_model
    from oneclick.features.spec import feature_columns, load_spec
    from oneclick.model.persistence import load_model

    shap = config.load_params(paths.PARAMS_FILE)["shap"]
    shap |= {"n_jobs": 1, "n_paths": n_paths, "n_paths_read": n_paths_read}
    columns = feature_columns(load_spec())
    model, train = load_model(), pd.read_csv(paths.TRAIN_FILE)
    background = train[columns]
    proba = model.predict_proba(background)[:, 1]
    read = proba >= shap["read_probability"]
    rows = {True: np.flatnonzero(read)[:n_read], False: np.flatnonzero(~read)[:n_other]}

    def cpu(picked: np.ndarray, marked: bool) -> float:
        start = time.process_time()
        explain_model(
            model, background, background.iloc[picked], shap, np.full(len(picked), marked)
        )
        return time.process_time() - start

    cpu(rows[False][:1], False)  # warm-up: feature blocks, once per encoding layout and process
    one, other = cpu(rows[False][:1], False), cpu(rows[False], False)
    per_other = max(other - one, 0.0) / max(len(rows[False]) - 1, 1)
    setup = max(one - per_other, 0.0)
    out = {
        "setup_s": setup,
        "read_s": max(cpu(rows[True], True) - setup, 0.0) / max(len(rows[True]), 1),
        "other_s": per_other,
        "read_share": float(read.mean()),
        "rows": len(train),
    }
    print(json.dumps(out))


def measure_size(
    n: int,
    workdir: Path,
    cpu_cap: int,
    caps: int | None,
    full: bool,
    models: bool,
    save: Callable[[dict], None],
) -> None:
    """Every stage of one copy on n generated customers (without models, the data stages only:
    the model stages are then extrapolated); then with caps (svc/knn.max_rows) the model
    stages again; with full, also evaluate and shap at the committed params. The record so far
    is saved after every stage."""
    repo, python = workdir / f"n{n}", sys.executable
    from bench.bench_repro import copy_project

    copy_project(repo, Path("data/sample"))
    committed = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    set_params(repo, MEASURED)
    env_path = f"{Path(python).parent}{os.pathsep}{os.environ['PATH']}"
    os.environ["PATH"] = env_path  # the stages find this venv's tools
    record: dict[str, Any] = {
        "customers": n,
        "runs": {},
        "repeats": committed["evaluate"]["protocol_repeats"],
        "shap": {k: committed["shap"][k] for k in ("n_paths", "n_paths_read")},
        "floor": run_child([python, "-c", HEAVY_IMPORTS], repo),
    }

    def stages(names: list[str], label: str) -> None:
        runs = record["runs"].setdefault(label, {})
        for name in names:
            args = [python, "-m", MODULES[name]]
            if name == "sample":
                args += ["--output", "data/sample", "--n-customers", str(n)]
            if any(r.get("capped") for r in runs.values()):
                runs[name] = {"skipped": True}
                continue
            runs[name] = run_child(args, repo, cpu_cap)
            if name == "evaluate" and not runs[name].get("capped"):
                runs[name]["folds_mb"] = (repo / "models" / "folds.skops").stat().st_size / 2**20
            entry.log.info("bench-scale: %d %s %s %s", n, label, name, runs[name])
            save(record)
        if "train" in names and not any(r.get("capped") for r in runs.values()):
            subset = {1_300: (20, 40), 5_000: (8, 16), 20_000: (3, 6)}.get(n, (2, 4))
            committed_paths = (committed["shap"]["n_paths"], committed["shap"]["n_paths_read"])
            args = [python, "-m", "bench.bench_scale", "--path-cost"]
            args += [str(a) for a in (*subset, *committed_paths)]
            with tempfile.TemporaryFile() as out:
                done = subprocess.run(args, cwd=repo, stdout=out, stderr=subprocess.DEVNULL)
                out.seek(0)
                if done.returncode == 0:
                    runs["paths"] = json.loads(out.read().decode().strip().splitlines()[-1])
            entry.log.info("bench-scale: %d %s paths %s", n, label, runs.get("paths"))
            save(record)

    stages(list(MODULES) if models else ["sample", "clean", "merge", "features"], "today")
    if caps and n * (1 - committed["features"]["test_size"]) > caps:
        set_params(repo, {"train.svc.max_rows": caps, "train.knn.max_rows": caps})
        stages(["train", "evaluate", "shap", "segment"], f"max_rows {caps}")
        set_params(repo, {"train.svc.max_rows": None, "train.knn.max_rows": None})
    if full:  # the committed protocol and paths: checks the x REPEATS scaling
        set_params(repo, {f"{k}": _dotted(committed, k) for k in MEASURED if "n_jobs" not in k})
        stages(["evaluate", "shap"], "committed")


def _dotted(params: dict, key: str) -> Any:
    for part in key.split("."):
        params = params[part]
    return params


HEAVY_IMPORTS = "import numpy, pandas, scipy, sklearn, matplotlib.pyplot, skops.io, yaml"


def _fit_exponent(sizes: list[int], values: list[float]) -> float | None:
    """Slope of log(value) on log(customers): cost ∝ customers^slope."""
    if len(sizes) < 2:
        return None
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


def _growth(sizes: list[int], values: list[float]) -> str:
    """The exponent fitted over every size, and between the two largest (what a fixed cost
    such as imports hides at small sizes shows there; extrapolations use it)."""
    if len(sizes) < 2:
        return ""
    whole, last = _fit_exponent(sizes, values), _fit_exponent(sizes[-2:], values[-2:])
    return f"n^{whole:.2f}" + (f" (last step n^{last:.2f})" if len(sizes) > 2 else "")


def estimate(record: dict, label: str) -> dict[str, dict[str, Any]]:
    """Per stage at the committed params: CPU s, 2-core wall s, peak RSS MB and how obtained."""
    runs, n, repeats = record["runs"][label], record["customers"], record["repeats"]
    floor = record["floor"]["cpu_s"]
    today = record["runs"]["today"]
    out = {}
    for name in MODULES:
        run = runs.get(name, today.get(name))
        if not run or run.get("capped") or run.get("skipped"):
            out[name] = {"how": "capped" if run and run.get("capped") else "not run"}
            continue
        if name == "shap" and "paths" not in runs:  # the set-up alone would look cheap
            out[name] = {"how": "paths not measured"}
            continue
        cpu, rss = run["cpu_s"], run["rss_mb"]
        how, wall = "measured", cpu
        if name in PARALLEL:
            repeated = repeats * (cpu - floor)
            how = f"floor + {repeats} × (1-repeat run − floor)"
            if name == "evaluate":
                rss += (repeats - 1) * run["folds_mb"]  # the other repeats' fold models in memory
                how += f"; RSS + {repeats - 1} × folds.skops"
            if name == "shap" and "paths" in runs:
                cost = runs["paths"]
                share = cost["read_share"]
                per = share * cost["read_s"] + (1 - share) * cost["other_s"]
                repeated += n * per  # a customer's paths are split over the repeats' models
                how += f" + {n:,} customers × their paths' cost measured on a subset"
            cpu, wall = floor + repeated, floor + repeated / 2
        out[name] = {"cpu_s": cpu, "wall_s": wall, "rss_mb": rss, "how": how}
    return out


def extrapolate(records: list[dict], label: str) -> dict[int, dict[str, dict[str, Any]]]:
    """estimate() per size; a stage that did not finish gets a power law through the sizes
    where it did (its growth exponent), marked as extrapolated."""
    table = {r["customers"]: estimate(r, label) for r in records if label in r["runs"]}
    for name in MODULES:
        done = sorted((n, row[name]) for n, row in table.items() if "cpu_s" in row[name])
        if len(done) < 2:
            continue
        sizes = [n for n, _ in done]
        k = {
            key: _fit_exponent(sizes[-2:], [c[key] for _, c in done][-2:])
            for key in ("cpu_s", "wall_s")
        }
        for n, row in table.items():
            if "cpu_s" not in row[name]:
                last_n, last = done[-1]
                row[name] = {
                    key: last[key] * (n / last_n) ** k[key] for key in ("cpu_s", "wall_s")
                } | {"rss_mb": None, "how": f"extrapolated (last step's n^{k['cpu_s']:.2f})"}
    return table


def pipeline_report(records: list[dict], info: dict[str, str]) -> str:
    records = sorted(records, key=lambda r: r["customers"])
    sizes = [r["customers"] for r in records]
    labels = [
        lab for lab in dict.fromkeys(k for r in records for k in r["runs"]) if lab != "committed"
    ]
    lines = [
        "# How the pipeline's cost grows with customers",
        "",
        "Written by `make bench-scale` (`python -m bench.bench_scale --pipeline`): for each",
        "size, a throw-away copy of the project runs every stage (`python -m stages.X`, one",
        "process each, as `dvc repro` runs them, without DVC's own hashing) on",
        "`stages.sample --n-customers N`. Per stage a CPU cap (RLIMIT_CPU); in the copies",
        ", ".join(f"`{k}: {v}`" for k, v in MEASURED.items()) + ". CPU s = user + system of",
        "the stage's process (os.wait4), peak RSS in MB.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in info.items()],
        "",
        "## Measured as run (one protocol repeat, 2 SHAP paths, one process per stage)",
        "",
        "| run | stage | "
        + " | ".join(f"{n:,}: CPU s / wall s / RSS MB" for n in sizes)
        + " | growth |",
        "|---|---|" + "---|" * (len(sizes) + 1),
    ]
    for label in [*labels, "committed"]:
        for name in [*MODULES, "paths"]:
            cells, xs, ys = [], [], []
            for r in records:
                run = r["runs"].get(label, {}).get(name)
                if run is None:
                    cells.append("")
                elif name == "paths":
                    cells.append(
                        f"set-up {run['setup_s']:.2f}, per customer {run['read_s']:.3f} (read) / "
                        f"{run['other_s']:.4f}, read {run['read_share']:.0%} of {run['rows']:,}"
                    )
                    xs.append(r["customers"])
                    ys.append(run["read_s"])
                elif run.get("capped"):
                    cells.append(f"stopped at the {run['cpu_s']:.0f} CPU s cap")
                elif run.get("skipped"):
                    cells.append("not run (an earlier stage stopped)")
                else:
                    cells.append(f"{run['cpu_s']:.1f} / {run['wall_s']:.1f} / {run['rss_mb']:.0f}")
                    xs.append(r["customers"])
                    ys.append(run["cpu_s"])
            if any(cells):
                growth = _growth(xs, ys)
                lines.append(f"| {label} | {name} | " + " | ".join(cells) + f" | {growth} |")
    for label in labels:
        table = extrapolate(records, label)
        lines += [
            "",
            f"## A cold repro at the committed evaluate/shap params, {label}: estimate",
            "",
            "| stage | "
            + " | ".join(f"{n:,}: CPU s / 2-core wall s / RSS MB" for n in table)
            + " | growth (CPU) | how |",
            "|---|" + "---|" * (len(table) + 2),
        ]
        totals = {n: [0.0, 0.0, 0.0] for n in table}
        for name in MODULES:
            cells, xs, ys, how = [], [], [], ""
            for n, row in table.items():
                e = row[name]
                if "cpu_s" not in e:
                    cells.append(e["how"])
                    continue
                rss = "?" if e["rss_mb"] is None else f"{e['rss_mb']:.0f}"
                cells.append(f"{e['cpu_s']:.0f} / {e['wall_s']:.0f} / {rss}")
                totals[n][0] += e["cpu_s"]
                totals[n][1] += e["wall_s"]
                totals[n][2] = max(totals[n][2], e["rss_mb"] or 0)
                if not e["how"].startswith("extrapolated"):
                    xs.append(n)
                    ys.append(e["cpu_s"])
                how = e["how"] if e["how"] != "measured" or not how else how
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {_growth(xs, ys)} | {how} |")
        whole = {n: all("cpu_s" in e for e in row.values()) for n, row in table.items()}
        lines.append(
            "| **total** | "
            + " | ".join(
                f"**{'' if whole[n] else '≥ '}{c:.0f} / {w:.0f} / {m:.0f}**"
                for n, (c, w, m) in totals.items()
            )
            + " | | |"
        )
        if GOAL["customers_65k"] in table:
            _, wall, rss = totals[GOAL["customers_65k"]]
            met = whole[GOAL["customers_65k"]] and wall <= GOAL["wall_65k_s"]
            met = met and rss <= GOAL["rss_65k_mb"]
            lines += [
                "",
                f"Goal at 65,000 customers, {label}: cold repro ≤ 30 min on 2 cores and ≤ 8 GB: "
                f"{'met' if met else 'NOT met'} (estimate: {'' if whole[65_000] else '≥ '}"
                f"{wall / 60:.0f} min, peak RSS {rss / 1024:.1f} GB of the measured stages).",
            ]
    return "\n".join(lines) + "\n"


def pipeline_main(args: argparse.Namespace) -> None:
    """Measure args.sizes (saved to the first --record file after every stage), then report on
    every record in the --record files: sizes can be measured by separate runs."""

    def read(path: Path) -> list[dict]:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []

    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        for n in args.sizes:
            entry.log.info("bench-scale: %d customers", n)
            full, models = n <= PIPELINE_SIZES[0], n <= args.models_up_to

            def save(record: dict, n: int = n) -> None:
                if args.record:
                    kept = [r for r in read(args.record[0]) if r["customers"] != n]
                    writers.write_text(json.dumps([*kept, record], indent=1), args.record[0])

            measure_size(n, Path(tmp), args.cpu_cap, args.max_rows, full, models, save)
    records = {r["customers"]: r for path in args.record or [] for r in read(path)}
    records = list(records.values())
    report = pipeline_report(records, machine())
    print(report)
    if args.markdown:  # the hand-written reading of the figures stays
        old = args.markdown.read_text(encoding="utf-8") if args.markdown.is_file() else ""
        reading = old[old.find(READING) :] if READING in old else ""
        writers.write_text(report + reading, args.markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--drivers", default="neighbours", help="stages.predict --drivers")
    parser.add_argument(
        "--shap-size",
        type=int,
        default=SIZES[0],
        help="one more run of this size with --drivers shap (0: none)",
    )
    parser.add_argument("--chunk-size", type=int, default=None, help="stages.predict option")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    parser.add_argument("--pipeline", action="store_true", help="every stage's growth instead")
    parser.add_argument("--cpu-cap", type=int, default=600, help="--pipeline: CPU s per stage")
    parser.add_argument("--max-rows", type=int, default=5_000, help="--pipeline: the capped run")
    parser.add_argument(
        "--models-up-to",
        type=int,
        default=20_000,
        help="--pipeline: above this size, today's model stages are extrapolated, not run",
    )
    parser.add_argument(
        "--record", type=Path, nargs="*", help="--pipeline: JSON files of runs (writes the first)"
    )
    parser.add_argument("--path-cost", type=int, nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.path_cost:
        return path_cost(*args.path_cost)
    if args.pipeline:
        if args.sizes == list(SIZES):
            args.sizes = list(PIPELINE_SIZES)
        return pipeline_main(args)
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
