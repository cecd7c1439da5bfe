"""Same data + params => the same bytes, and the number of worker threads/processes changes nothing.

The suite's one forced rerun of the whole pipeline, in a clone of `reproduced_project`, with every
n_jobs knob in N_JOBS flipped: each stage runs again from scratch, and shap runs with another
degree of parallelism. dvc.lock (all output hashes, so data, model and plots too), metrics, plot
data and reports must come out byte-identical; in dvc.lock only the flipped n_jobs values may
differ. The knobs' invariance is unit-tested on tiny data too (tests/model/test_protocol_n_jobs.py,
tests/explain/test_explainer_n_jobs.py).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import clone_project, dvc

# params blocks with an n_jobs knob flipped here (both are also unit-tested on tiny data:
# tests/model/test_protocol_n_jobs.py, tests/explain/test_explainer_n_jobs.py)
N_JOBS = ("evaluate", "shap")
TRACKED = ("metrics/*.json", "plots/**/*.csv", "plots/**/*.json", "reports/*")


def snapshot(repo: Path) -> dict[str, bytes]:
    files = {p for pattern in TRACKED for p in repo.glob(pattern) if p.is_file()}
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted(files)}


def flip_n_jobs(repo: Path) -> dict[str, tuple[Any, Any]]:
    """Set every n_jobs to another value (1 <-> 2); return {block: (old, new)}."""
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    flipped = {}
    for block in N_JOBS:
        if "n_jobs" in params.get(block, {}):
            old = params[block]["n_jobs"]
            params[block]["n_jobs"] = 1 if old != 1 else 2
            flipped[block] = (old, params[block]["n_jobs"])
    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), "utf-8")
    return flipped


def lock_without_n_jobs(repo: Path) -> dict[str, Any]:
    lock = yaml.safe_load((repo / "dvc.lock").read_text(encoding="utf-8"))
    for stage in lock["stages"].values():
        for block in stage.get("params", {}).values():
            for name in N_JOBS:
                if isinstance(block.get(name), dict):
                    block[name].pop("n_jobs", None)
                block.pop(f"{name}.n_jobs", None)
    return lock


def differences(before: dict[str, bytes], after: dict[str, bytes]) -> str:
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None or new is None:
            lines.append(f"{name}: {'created' if old is None else 'deleted'}")
            continue
        diff = difflib.unified_diff(
            old.decode(errors="replace").splitlines(),
            new.decode(errors="replace").splitlines(),
            lineterm="",
            n=0,
        )
        lines.append(f"{name}:\n" + "\n".join(list(diff)[2:12]))
    return "\n".join(lines)


def test_lock_comparison_ignores_only_n_jobs(tmp_path: Path) -> None:
    lock = {
        "stages": {
            "evaluate": {"params": {"params.yaml": {"evaluate": {"n_jobs": 2, "seed": 5}}}},
            "shap": {"params": {"params.yaml": {"shap.n_jobs": 2, "shap.top_drivers": 3}}},
            "other": {"params": {"params.yaml": {"other": {"n_jobs": 2}}}},
        }
    }
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(lock), encoding="utf-8")
    stripped = lock_without_n_jobs(tmp_path)["stages"]
    assert stripped["evaluate"]["params"]["params.yaml"] == {"evaluate": {"seed": 5}}
    assert stripped["shap"]["params"]["params.yaml"] == {"shap.top_drivers": 3}
    # a knob not flipped stays compared
    assert stripped["other"]["params"]["params.yaml"] == {"other": {"n_jobs": 2}}


def test_flip_n_jobs_changes_each_value(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(
        "evaluate:\n  n_jobs: 2\nshap:\n  n_jobs: 1\nother: {n_jobs: 4}\n", encoding="utf-8"
    )
    assert flip_n_jobs(tmp_path) == {"evaluate": (2, 1), "shap": (1, 2)}
    params = yaml.safe_load((tmp_path / "params.yaml").read_text(encoding="utf-8"))
    assert params["other"]["n_jobs"] == 4 and params["evaluate"]["n_jobs"] == 1


def test_forced_rerun_with_other_n_jobs_is_byte_identical(
    reproduced_project: Path, tmp_path: Path
) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")
    before, lock_before = snapshot(repo), lock_without_n_jobs(repo)
    assert before, "nothing to compare"
    assert set(flip_n_jobs(repo)) == set(N_JOBS), "an n_jobs knob is missing from params.yaml"
    dvc(["repro", "--force", "--quiet"], repo)
    assert snapshot(repo) == before, differences(before, snapshot(repo))
    lock_after = lock_without_n_jobs(repo)
    assert lock_after == lock_before, "\n".join(
        difflib.unified_diff(
            yaml.safe_dump(lock_before).splitlines(),
            yaml.safe_dump(lock_after).splitlines(),
            lineterm="",
            n=1,
        )
    )
