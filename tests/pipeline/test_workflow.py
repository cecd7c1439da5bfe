"""The team workflow around the pipeline: what git vs DVC tracks, params coverage, branch
comparison, experiments and the DVC remote. Integration tests reuse `reproduced_project` and
change only `segment.threshold`, which reruns the `segment` stage alone."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, clone_project, dvc, git

PARAM = "segment.threshold"
NAMED_PLOTS = ("ROC", "Precision-Recall", "Calibration", "Confusion-Matrix")


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def leaf_keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        keys |= leaf_keys(value, f"{dotted}.") if isinstance(value, dict) else {dotted}
    return keys


def declared_params(stages: dict[str, Any]) -> set[str]:
    """Dotted params.yaml keys the stages declare (a bare `train` declares the whole block)."""
    keys = set()
    for stage in stages.values():
        for entry in stage.get("params", []):
            keys |= {entry} if isinstance(entry, str) else set(entry.get("params.yaml", []))
    return keys


def covered(key: str, declared: set[str]) -> bool:
    parts = key.split(".")
    return any(".".join(parts[:n]) in declared for n in range(1, len(parts) + 1))


def rerun_stages(repro_output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", repro_output))


def other_value(current: float) -> float:
    return 0.6 if current != 0.6 else 0.5


def set_param(repo: Path, dotted: str, value: Any) -> Any:
    """Set one params.yaml value (comments are lost: fine in a throwaway copy); return the old."""
    params = read_yaml(repo / "params.yaml")
    *parents, last = dotted.split(".")
    block = params
    for part in parents:
        block = block[part]
    old, block[last] = block[last], value
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return old


def make_branch(src: Path, dst: Path, branch: str = "lower-threshold") -> tuple[Path, Any, Any]:
    """Clone the reproduced project, lower segment.threshold on a branch, repro and commit.

    Returns the repo, the old and the new value; the repro output is kept in `.repro.log`."""
    repo = clone_project(src, dst)
    git(["checkout", "-q", "-b", branch], repo)
    old = read_yaml(repo / "params.yaml")["segment"]["threshold"]
    new = other_value(old)
    set_param(repo, PARAM, new)
    result = dvc(["repro"], repo)
    (repo / ".git" / "repro.log").write_text(result.stdout, encoding="utf-8")
    git(["add", "-A"], repo)
    git(["commit", "-q", "-m", f"{PARAM}={new}"], repo)
    return repo, old, new


# --- static checks on the working tree (fast) ----------------------------------------------


def test_leaf_keys_and_coverage_helpers() -> None:
    tree = {"a": {"b": 1, "c": {"d": 2}}, "e": 3}
    assert leaf_keys(tree) == {"a.b", "a.c.d", "e"}
    assert covered("a.c.d", {"a.c"}) and covered("a.b", {"a"})
    assert not covered("a.b", {"a.c", "ab"})
    stages = {"s": {"params": ["x.y", {"params.yaml": ["z"]}]}, "t": {}}
    assert declared_params(stages) == {"x.y", "z"}
    assert rerun_stages("Running stage 'a':\nStage 'b' didn't change\nRunning stage 'c':") == {
        "a",
        "c",
    }


def test_every_param_is_declared_and_every_declared_param_exists() -> None:
    params = read_yaml(ROOT / "params.yaml")
    stages = read_yaml(ROOT / "dvc.yaml")["stages"]
    declared = declared_params(stages)
    leaves = leaf_keys(params)
    unused = sorted(k for k in leaves if not covered(k, declared))
    assert not unused, f"params.yaml keys no stage declares in dvc.yaml: {unused}"
    prefixes = leaves | {k.rsplit(".", n)[0] for k in leaves for n in range(1, k.count(".") + 1)}
    missing = sorted(k for k in declared if k not in prefixes)
    assert not missing, f"dvc.yaml declares params missing from params.yaml: {missing}"
    used = set(re.findall(r"\$\{([^}]+)\}", (ROOT / "dvc.yaml").read_text(encoding="utf-8")))
    assert used <= leaves, f"dvc.yaml interpolates unknown params: {sorted(used - leaves)}"


def test_metrics_plots_and_reports_go_to_git_not_the_cache() -> None:
    for name, stage in read_yaml(ROOT / "dvc.yaml")["stages"].items():
        for kind in ("metrics", "plots"):
            for entry in stage.get(kind, []):
                path, props = next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
                assert props.get("cache") is False, f"{name}: {kind} {path} must be cache: false"
        for entry in stage.get("outs", []):
            path, props = next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
            cached = props.get("cache", True)
            assert cached == path.startswith(("data/", "models/")), f"{name}: out {path}"


def test_default_remote_is_outside_the_repo() -> None:
    config = (ROOT / ".dvc" / "config").read_text(encoding="utf-8")
    remote = re.search(r"^\s*remote\s*=\s*(\S+)", config, re.M).group(1)
    url = re.search(rf"\['remote \"{remote}\"'\]\s*url\s*=\s*(\S+)", config).group(1)
    storage = (ROOT / ".dvc" / url).resolve()  # DVC resolves relative to .dvc/
    assert ROOT.resolve() not in [storage, *storage.parents]


# --- integration: a reproduced copy of the project -----------------------------------------


def test_cached_outputs_are_ignored_and_tracked_outputs_committed(
    reproduced_project: Path, tmp_path: Path
):
    repo = clone_project(reproduced_project, tmp_path / "repo")  # DVC commands lock the repo
    tracked = set(git(["ls-files"], repo).stdout.split())
    assert not [p for p in tracked if p.startswith(("data/", "models/")) and ".gitignore" not in p]
    metrics = json.loads(dvc(["metrics", "show", "--json"], repo).stdout)
    files = {f for rev in metrics.values() for f in rev.get("data", {})}
    assert "metrics/segment.json" in files and files <= tracked
    assert {"dvc.lock", "plots/evaluate/roc.csv"} <= tracked
    assert json.loads(dvc(["status", "--json"], repo).stdout) == {}


@pytest.fixture(scope="module")
def branch_project(reproduced_project: Path, tmp_path_factory: pytest.TempPathFactory):
    return make_branch(reproduced_project, tmp_path_factory.mktemp("branch") / "repo")


def test_branch_change_reruns_segment_only(branch_project) -> None:
    repo, _, _ = branch_project
    assert rerun_stages((repo / ".git" / "repro.log").read_text(encoding="utf-8")) == {"segment"}


def test_metrics_and_params_diff_against_main(branch_project) -> None:
    repo, old, new = branch_project
    params = json.loads(dvc(["params", "diff", "main", "--json"], repo).stdout)
    assert params == {
        "params.yaml": {PARAM: {"old": old, "new": new, "diff": pytest.approx(new - old)}}
    }
    metrics = json.loads(dvc(["metrics", "diff", "main", "--json"], repo).stdout)
    assert set(metrics) == {"metrics/segment.json"}, "only the segment stage reran"
    moved = {k for k, v in metrics["metrics/segment.json"].items() if v["old"] != v["new"]}
    assert moved, "lowering the threshold moved no segment metric"


def test_plots_diff_against_main_has_both_revisions(branch_project) -> None:
    repo, _, _ = branch_project
    out = dvc(["plots", "diff", "main", "--json", "--targets", *NAMED_PLOTS], repo).stdout
    data = json.loads(out)["data"]
    for name in NAMED_PLOTS:
        assert set(data[name][0]["revisions"]) == {"main", "workspace"}, name


def test_experiment_run_and_show(reproduced_project: Path, tmp_path: Path) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")
    old = read_yaml(repo / "params.yaml")["segment"]["threshold"]
    new = other_value(old)
    result = dvc(["exp", "run", "-S", f"{PARAM}={new}", "-n", "thr"], repo)
    assert rerun_stages(result.stdout) == {"segment"}
    shown = json.loads(dvc(["exp", "show", "--json"], repo).stdout)
    runs = [r for base in shown for e in base.get("experiments") or [] for r in e["revs"]]
    assert [r["name"] for r in runs] == ["thr"]
    data = runs[0]["data"]
    assert data["params"]["params.yaml"]["data"]["segment"]["threshold"] == new
    segment = data["metrics"]["metrics/segment.json"]["data"]
    baseline = json.loads(git(["show", "HEAD:metrics/segment.json"], repo).stdout)
    assert segment and segment.keys() <= baseline.keys()  # DVC leaves out list values
    assert any(segment[k] != baseline[k] for k in segment), "no segment metric moved"


def test_push_then_pull_restores_cache_and_outputs(reproduced_project: Path, tmp_path: Path):
    repo = clone_project(reproduced_project, tmp_path / "repo")
    dvc(["push", "--quiet"], repo)
    assert any((tmp_path / "dvc-storage").rglob("*")), "default remote is ../dvc-storage"
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / "models")
    shutil.rmtree(repo / "data" / "merged")
    dvc(["pull", "--quiet"], repo)
    assert (repo / "models" / "model.skops").is_file()
    status = dvc(["status", "--json"], repo).stdout.strip()
    assert json.loads(status) == {}, status


def test_pr_workflow_runs_ci_and_the_report_with_the_bases_outputs() -> None:
    workflow = read_yaml(ROOT / ".github" / "workflows" / "pr.yml")
    steps = workflow["jobs"]["check-and-report"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0, "the base branch must be fetched"
    runs = [s.get("run", "") for s in steps]
    assert ".ci/run" in runs, "tests, lint and reproducibility run on every pull request"
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore"))
    assert restore["with"]["path"] == ".dvc/cache" and "dvc.lock" in "\n".join(runs)
    script = "\n".join(runs)
    assert re.search(r"oneclick report --base \S+ --image-url", script)
    targets = set(re.findall(r"\bmake (\w+)", script))
    assert targets == {"plots"}
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert all(re.search(rf"^{t}:", makefile, re.M) for t in targets)
