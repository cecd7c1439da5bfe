"""Every experiment on one screen: `dvc exp show` cut to the headline columns.

    oneclick exps [--width N]      (make exps)

`dvc exp show` lists every metric, param and dependency hash (over 120 columns: in a terminal
every cell becomes "…"). Here, from its `--json` output: experiment, the params it changed
against its baseline commit, protocol ROC-AUC ± SE, log-loss, segment size and expected profit.
"""

from __future__ import annotations

import shutil
from typing import Any

from oneclick.review.vcs import dvc_json

EVALUATE, SEGMENT = "metrics/evaluate.json", "metrics/segment.json"
# (header, metrics file, key, key of its standard error or None, format)
METRICS = (
    ("ROC-AUC ± SE", EVALUATE, "protocol.roc_auc_mean", "protocol.roc_auc_se", "{:.4f}"),
    ("log-loss", EVALUATE, "protocol.log_loss_mean", None, "{:.4f}"),
    ("segment", SEGMENT, "segment.size", None, "{:.0f}"),
    ("profit", SEGMENT, "segment.expected_profit_at_risk_total", None, "{:.1f}"),
)
HEADER = ("Experiment", "changed params", *(m[0] for m in METRICS))
MISSING = "—"


def flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}."""
    if not isinstance(tree, dict):
        return {prefix.rstrip("."): tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(flat(value, f"{prefix}{key}."))
    return out


def _files(state: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """{file: its flat values} of one experiment's params or metrics (errors read as absent)."""
    data = (state.get("data") or {}).get(kind) or {}
    return {path: flat(entry.get("data") or {}) for path, entry in data.items()}


def _params(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for values in _files(state, "params").values() for k, v in values.items()}


def _cell(value: Any) -> str:
    return " ".join(str(value).split())


def changed(params: dict[str, Any], baseline: dict[str, Any]) -> str:
    """`key=value` of every param that differs from the baseline's."""
    keys = sorted(set(params) | set(baseline))
    return " ".join(
        f"{key}={_cell(params.get(key, MISSING))}"
        for key in keys
        if params.get(key) != baseline.get(key)
    )


def metric_cells(state: dict[str, Any]) -> list[str]:
    files = _files(state, "metrics")
    cells = []
    for _, path, key, se_key, form in METRICS:
        values = files.get(path, {})
        value = values.get(key)
        if not isinstance(value, int | float):
            cells.append(MISSING)
            continue
        cell = form.format(value)
        if se_key and isinstance(values.get(se_key), int | float):
            cell += " ± " + form.format(values[se_key])
        cells.append(cell)
    return cells


def _name(state: dict[str, Any]) -> str:
    rev = str(state.get("rev") or "")
    name = state.get("name") or (rev if rev == "workspace" else rev[:7])
    return str(name)


def rows(states: list[dict[str, Any]]) -> list[list[str]]:
    """One row per workspace, baseline commit and experiment (experiments indented under theirs)."""
    baselines = [s for s in states if s.get("rev") != "workspace"]
    out = []
    for state in states:
        reference = _params(
            baselines[0] if state.get("rev") == "workspace" and baselines else state
        )
        out.append([_name(state), changed(_params(state), reference), *metric_cells(state)])
        for experiment in state.get("experiments") or []:
            for run in experiment.get("revs") or []:
                status = (experiment.get("executor") or {}).get("state")
                name = _name(run) + (f" ({status})" if status and status != "success" else "")
                out.append(["└ " + name, changed(_params(run), reference), *metric_cells(run)])
    return out


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def render(table: list[list[str]], width: int) -> str:
    """A plain text table no wider than `width`: the params column gets what the others leave."""
    lines = [list(HEADER), *table]
    widths = [max(len(row[i]) for row in lines) for i in range(len(HEADER))]
    widths[0] = min(widths[0], 24)
    gaps = 2 * (len(HEADER) - 1)
    widths[1] = max(min(widths[1], width - gaps - sum(widths) + widths[1]), 8)
    out = []
    for row in lines:
        cells = [_fit(cell, w) for cell, w in zip(row, widths, strict=True)]
        text = "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        )
        out.append(text.rstrip()[:width])
    return "\n".join(out)


def show(width: int | None = None) -> None:
    """Print the experiments table (`dvc exp show --json` underneath)."""
    width = width or shutil.get_terminal_size((120, 24)).columns
    print(render(rows(dvc_json(["exp", "show"])), width))
