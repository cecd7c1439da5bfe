"""Scoring a batch: a new period's four files -> per customer P(decline), segment and offers.

    oneclick predict --input DIR --output FILE [--format csv|csv-ru|xlsx] [--chunk-size N]
                     [--drivers METHOD]

Each of the four files may be a directory of that name holding its parts (partitions.py).
The files go through the pipeline's own steps: the cleaning contract with the `clean` params,
the merge, the feature spec of data/features, and the model; each of these is parsed only from
bytes whose md5 is the one dvc.lock records (oneclick/scoring/integrity.py), and the output may
not overwrite anything of the project or of the input (guard.py). The target column may be
absent. Segment and offers follow the current `segment` params (profit cut: quantile over this
batch). Decline drivers are needed for segment customers only: `shap` runs the shap stage's
explainer on them, `neighbours` borrows the SHAP values of the nearest customers the shap stage
explained (fast), `auto` picks `shap` up to AUTO_SHAP_LIMIT segment customers. Customers the
cleaning rules drop are listed with the reason as their status. Drift: the PSI of every model
feature against the training part (oneclick/campaign/drift.py), one warning line per feature
above 0.25; the figures and counts go to <output stem>.summary.json beside the output.

Output (--format): FILE lists every customer, by id, without driver or offer columns (empty for
the customers outside the segment); the segment's rows with drivers and offers, by expected
profit at risk, go to a second table: the sheet «Кампания» of the xlsx workbook, or FILE's sibling
NAME.segment.csv. `csv` is for code (English codes, `,`, decimal point); `csv-ru` and `xlsx` are
for the store's team (report.language words, the campaign table of the segment stage; csv-ru:
UTF-8 with BOM, `;`, decimal comma).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oneclick.campaign import control
from oneclick.campaign.drift import training_drift
from oneclick.core import config, entry, params_schema, writers
from oneclick.data.cleaning import clean_tables
from oneclick.data.contract import ID, PROFIT
from oneclick.data.merging import merge_tables
from oneclick.explain.explainers import explain_model
from oneclick.features.spec import SPEC_FILE, feature_columns, prepare_features
from oneclick.scoring import artifacts as scoring
from oneclick.scoring.guard import check_output
from oneclick.scoring.integrity import Artifacts, load_artifacts, locked_versions
from oneclick.scoring.partitions import read_input
from oneclick.segment import design, export, workbook
from oneclick.segment.exploration import COMPARISON
from oneclick.segment.selection import AT_RISK, PROBABILITY, segment_customers, select
from oneclick.segment.words import campaign_table
from oneclick.text.formats import say
from oneclick.text.vocabulary import status

AUTO_SHAP_LIMIT = 2_000  # sampled SHAP of a KNN/SVC: ~10 ms per customer on 2 cores
NEIGHBOURS = 5
IN_SEGMENT, DRIVERS_FROM = "in_segment", "drivers_from"
DRIVER_SOURCES = {"shap": "shap", "neighbours": f"shap of {NEIGHBOURS} nearest explained customers"}


def score_table(merged: pd.DataFrame, features: pd.DataFrame, proba: np.ndarray) -> pd.DataFrame:
    """Merged rows (index id) + model input columns + probability and expected profit at risk."""
    table = merged.reset_index()
    extra = [c for c in features.columns if c not in table.columns]
    table[extra] = features[extra].to_numpy()
    table[PROBABILITY] = proba
    table[AT_RISK] = table[PROBABILITY] * table[PROFIT]
    return table


def driver_method(method: str, segment_size: int) -> str:
    """`auto`: the shap stage's explainer when the segment is small enough for it to be cheap,
    else SHAP borrowed from the nearest explained customers."""
    if method != "auto":
        return method
    return "shap" if segment_size <= AUTO_SHAP_LIMIT else "neighbours"


def segment_shap(
    method: str, pipeline: Artifacts, rows: pd.DataFrame, params: dict[str, Any], chunk_size: int
) -> np.ndarray:
    """SHAP per model input column for the segment rows, by the chosen method."""
    columns, model = list(rows.columns), pipeline.model
    if method == "neighbours":
        shap, explained = pipeline.shap_values[columns], pipeline.shap_features[columns]
        return scoring.neighbour_shap(model, explained, shap, rows, NEIGHBOURS)
    train = pipeline.train[columns]
    parts = []
    for part in scoring.chunks(len(rows), chunk_size):
        chunk = rows.iloc[part]  # segment rows: their drivers are read
        read = np.ones(len(chunk), bool)
        parts.append(explain_model(model, train, chunk, params["shap"], read)[0])
    return np.vstack(parts) if parts else np.empty((0, len(columns)))


def explained(
    table: pd.DataFrame,
    features: pd.DataFrame,
    rows: pd.Series,
    pipeline: Artifacts,
    params: dict[str, Any],
    method: str,
    chunk_size: int,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """SHAP and feature values (by id) of the table rows `rows`, and the method used."""
    ids, chosen = table.loc[rows.to_numpy(), ID].to_numpy(), features[rows.to_numpy()]
    method = driver_method(method, len(chosen))
    if not len(chosen):
        return pd.DataFrame(columns=chosen.columns), chosen, method
    entry.log.info("predict: %d customers to explain, drivers by %s", len(chosen), method)
    shap = segment_shap(method, pipeline, chosen, params, chunk_size)
    return pd.DataFrame(shap, index=ids, columns=chosen.columns), chosen.set_axis(ids), method


def campaign_design(
    table: pd.DataFrame,
    features: pd.DataFrame,
    pipeline: Artifacts,
    params: dict[str, Any],
    method: str,
    chunk_size: int,
) -> design.Design:
    """The segment stage's design on this batch: only the customers who may have a positive
    expected net profit (and the exploration arm) are explained and given offers."""
    eligible, _ = select(table, params["segment"])

    def offered(rows: pd.Series) -> pd.DataFrame:
        shap, values, used = explained(table, features, rows, pipeline, params, method, chunk_size)
        customers = segment_customers(table, rows, shap, values, params["segment"])
        return customers.assign(**{DRIVERS_FROM: DRIVER_SOURCES[used]})

    price = design.pricing(table, params["segment"], offered)
    return design.design(table, eligible, price, params["segment"], params["campaign"], False)


def campaign_facts(plan: design.Design, params: dict[str, Any]) -> dict[str, Any]:
    """The campaign's figures for the summary file and the workbook's description sheet."""
    control_size = int((plan.customers[control.GROUP] == control.CONTROL).sum())
    return writers.rounded(
        {
            "campaign": {"control_size": control_size},
            "segment": {"size": len(plan.customers)},
            **design.metrics(plan, params["segment"]),
        }
    )


def output_table(table: pd.DataFrame, mask: pd.Series, excluded: pd.DataFrame) -> pd.DataFrame:
    """One row per input customer, by id: scored ones with their figures, excluded with reason."""
    scored = table[[ID, PROBABILITY, PROFIT, AT_RISK]].assign(
        status=status(None, "en"), **{IN_SEGMENT: mask.to_numpy()}
    )
    out = pd.concat([scored, excluded], ignore_index=True)
    out = out[[ID, "status", PROBABILITY, IN_SEGMENT, PROFIT, AT_RISK]]
    return out.sort_values(ID, kind="mergesort").reset_index(drop=True)


def segment_file(output: Path) -> Path:
    """Where the csv formats write the segment table: beside FILE, NAME.segment.csv."""
    return output.with_name(f"{output.stem}.segment{output.suffix or '.csv'}")


def write_output(
    output_format: str,
    output: Path,
    tables: tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.DataFrame],
    removed: list[dict[str, Any]],
    params: dict[str, Any],
    facts: dict[str, Any],
) -> list[Path]:
    """Write every customer to output and the campaign's customers (the segment, then any
    exploration arm) to its second table; the files written. tables: (score_table rows, segment
    mask, the design's listed rows, every model input row); facts: campaign_facts."""
    table, mask, customers, features = tables
    if output_format == "csv":
        every = output_table(table, mask, scoring.excluded_customers(removed))
        writers.write_csv(every, output)
        writers.write_csv(customers, segment_file(output))
        return [output, segment_file(output)]
    language = params["report"]["language"]
    every = export.customers_sheet(table, mask.to_numpy(), removed, language)
    max_offers = params["segment"]["max_offers"]
    customers = customers[customers[control.GROUP] != COMPARISON]  # nobody contacts them
    campaign = campaign_table(customers, table, features, max_offers, language)
    if output_format == "xlsx":  # as the segment stage's campaign.xlsx, then every customer
        act, held_out = workbook.split(campaign, customers[control.GROUP], language)
        about = workbook.about(act, {**facts, "versions": locked_versions()}, language)
        sheets = workbook.sheets(act, held_out, about, language)
        export.write_xlsx({**sheets, say(export.SHEETS["customers"], language): every}, output)
        return [output]
    export.write_csv_ru(every, output)  # the segment table with its group column
    export.write_csv_ru(campaign, segment_file(output))
    return [output, segment_file(output)]


def summary_file(output: Path) -> Path:
    """The run's summary (counts, drift) beside the output: scores.csv -> scores.summary.json."""
    return output.with_name(f"{output.stem}.summary.json")


def output_files(
    output: Path, output_format: str, timings_file: Path | None
) -> list[tuple[str, Path]]:
    """(option, path) of every file predict writes: FILE, its derived siblings, --timings."""
    files = [("--output", output), ("--output (summary)", summary_file(output))]
    if output_format != "xlsx":
        files.append(("--output (segment table)", segment_file(output)))
    return files + ([("--timings", timings_file)] if timings_file is not None else [])


@contextmanager
def phase(timings: dict[str, float], name: str, quiet: bool = False) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    if not quiet:
        entry.log.info("predict: %s %.1f s", name, timings[name])


def predict(
    input_dir: Path,
    output: Path,
    model_path: Path,
    chunk_size: int,
    n_jobs: int,
    drivers: str,
    timings_file: Path | None = None,
    output_format: str = "csv",
) -> None:
    """Score the four files in input_dir and write one row per customer to output (and the
    segment's rows to a second table, see the module docstring)."""
    for flag, path in output_files(output, output_format, timings_file):
        # before anything is read: a refused path costs nothing
        check_output(path, input_dir, model_path, flag)
    params = config.load_params()
    # what scoring reads; campaign: the control group, drawn as the segment stage draws it
    params_schema.validate(params, ["clean", "shap", "segment", "report", "campaign"])
    timings: dict[str, float] = {}
    # quiet until the input is validated: a bad file gets its error line and nothing else
    with phase(timings, "load_model", quiet=True):
        pipeline = load_artifacts(model_path)
        model, spec = pipeline.model, pipeline.spec
        scoring.check_model_columns(model, feature_columns(spec), SPEC_FILE.name)
    with phase(timings, "read", quiet=True):
        raw = read_input(input_dir)  # a file may be a directory of parts
    with phase(timings, "clean", quiet=True):
        tables, quality = clean_tables(raw, params["clean"], require_target=False)
        del raw
    entry.log.info("predict: %s", ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    with phase(timings, "merge_features"):
        merged = merge_tables(tables)
        del tables
        features = prepare_features(merged, spec).reset_index(drop=True)
    with phase(timings, "drift"):  # before trusting the scores: one warning per drifted feature
        drift = training_drift(features, spec)
    with phase(timings, "model"):
        proba = scoring.predict_in_chunks(model, features, chunk_size, n_jobs)
    with phase(timings, "drivers_offers"):  # the control group gets no offer
        table = score_table(merged, features, proba)
        plan = campaign_design(table, features, pipeline, params, drivers, chunk_size)
        mask, facts = plan.mask, campaign_facts(plan, params)
    removed = quality["removed_customers"]["items"]
    counts = {"customers": len(table), "excluded": len(removed), "segment": int(mask.sum())}
    e = facts["economics"]
    entry.log.info(
        "predict: campaign: %d contacted, cost %.2f, expected gain %.2f, net %.2f; pays off "
        "from a drop of the decline rate of %s points",
        e["contacted"],
        e["expected_cost"],
        e["expected_gain"],
        e["expected_net_profit"],
        workbook.points(e["break_even_drop"], "en"),
    )
    with phase(timings, "write"), writers.together():  # the tables and summary, or none
        frames = (table, mask, plan.listed, features)
        written = write_output(output_format, output, frames, removed, params, facts)
        summary: dict[str, Any] = {
            **counts,
            **{k: facts[k] for k in ("economics", "exploration") if k in facts},
        }
        writers.write_json({**summary, "drift": drift}, summary_file(output))
    entry.log.info(
        "predict: %d customers scored, %d excluded, %d in the segment -> %s",
        len(table),
        len(removed),
        int(mask.sum()),
        ", ".join(map(str, written)),
    )
    if timings_file:
        used = set(plan.listed[DRIVERS_FROM].dropna())
        run = {
            "phases": timings,
            "customers": len(table),
            "excluded": len(removed),
            "segment": int(mask.sum()),
            "drivers": "+".join(k for k, v in DRIVER_SOURCES.items() if v in used) or drivers,
        }
        writers.write_text(json.dumps(run, indent=2) + "\n", timings_file)
