"""`oneclick`: the project's console command (the DVC stages run from dvc.yaml, not from here).

    oneclick predict --input DIR --output FILE   score a new period's four files
    oneclick outcomes --campaign FILE --input DIR  last campaign's effect, model quality, drift
    oneclick plots [--base REV]                  offline page of the pipeline's plots
    oneclick report --base REV                   pull-request report: branch vs base
    oneclick exps                                experiments, headline columns only

Subcommands import their libraries only when run, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from oneclick.campaign.command import add_outcomes
from oneclick.core import entry, paths

DRIVER_METHODS = ("auto", "shap", "neighbours")
OUTPUT_FORMATS = ("csv", "csv-ru", "xlsx")  # oneclick/scoring/batch.py writes each
CHUNK_SIZE = 100_000  # rows per model call: bounds temporary memory, never changes a result
PLOTS_DIR = "plots_offline"  # git-ignored; dvc_plots/ stays DVC's own (dvc plots show)
REPORT_FILE, REPORT_IMAGES = "report.md", "report"


def positive(text: str) -> int:
    """argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _predict(args: argparse.Namespace) -> None:
    from oneclick.scoring.batch import predict

    predict(
        args.input,
        args.output,
        args.model,
        args.chunk_size,
        args.n_jobs,
        args.drivers,
        args.timings,
        args.format,
    )


def _plots(args: argparse.Namespace) -> None:
    from oneclick.review.plots import offline_plots

    offline_plots(args.base, args.out)


def _report(args: argparse.Namespace) -> None:
    from oneclick.review.report import report

    report(args.base, args.out, args.images, args.image_url)


def _exps(args: argparse.Namespace) -> None:
    from oneclick.review.experiments import show

    show(args.width)


def _add_predict(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict",
        help="score a new period's four files with the pipeline's model",
        description="Score a new period's four files: P(decline), the segment under the current "
        "`segment` params, decline drivers and offers. The files pass the "
        "same cleaning contract, merge and feature spec as the pipeline; the target column may "
        "be absent. The model, feature spec and SHAP tables are used only if their md5 is the one "
        "dvc.lock records; the output may not overwrite a file of the project or of the input. "
        "Bad input: one `error:` line, exit code 2.",
    )
    parser.add_argument(
        "--input",
        type=Path,
        required=True,
        metavar="DIR",
        help="directory holding market_file.csv, market_money.csv, market_time.csv, money.csv; "
        "each may be a directory of that name holding the file's parts (same columns)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        required=True,
        metavar="FILE",
        help="file to write, one row per customer (the segment's rows go to a second table, "
        "see --format); per-customer data: keep it out of git",
    )
    parser.add_argument(
        "--format",
        choices=OUTPUT_FORMATS,
        default="csv",
        help="`csv`: for code: English codes, `,` and a decimal point; FILE lists every "
        "customer (status, probability, in_segment, profit, expected profit at risk) and "
        "NAME.segment.csv beside it the segment customers with their drivers and offers. "
        "`csv-ru`: the same two files for a Russian-locale spreadsheet (UTF-8 with BOM, `;`, "
        "decimal comma), headers and values in words (params.yaml report.language), the "
        "segment file being the campaign table of the segment stage (offers, consent, "
        "favourite category, drivers in words). `xlsx`: one workbook with both tables as "
        "sheets, campaign first. Driver and offer columns are never written for customers "
        "outside the segment (default: %(default)s)",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=paths.MODEL_FILE,
        metavar="FILE",
        help="fitted model; must match dvc.lock's md5 for models/model.skops "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--chunk-size",
        type=positive,
        default=CHUNK_SIZE,
        metavar="N",
        help="rows per model call: bounds memory, never changes a result (default: %(default)s)",
    )
    parser.add_argument(
        "--n-jobs",
        type=positive,
        default=os.cpu_count() or 1,
        metavar="N",
        help="threads scoring chunks in parallel (default: the number of CPUs, %(default)s)",
    )
    parser.add_argument(
        "--drivers",
        choices=DRIVER_METHODS,
        default="auto",
        help="decline drivers of segment customers: `shap` explains each one, `neighbours` "
        "borrows the SHAP values of the nearest customers the shap stage explained (fast), "
        "`auto` uses shap for small segments (default: %(default)s)",
    )
    parser.add_argument(
        "--timings",
        type=Path,
        metavar="FILE",
        help="also write the seconds of each phase as JSON (used by bench/)",
    )
    parser.set_defaults(handler=_predict)


def _add_review(commands: argparse._SubParsersAction) -> None:
    plots = commands.add_parser(
        "plots",
        help="render the pipeline's plots as an offline HTML page",
        description="Render every plot of dvc.yaml (workspace, or BASE vs workspace) into an HTML "
        "page that needs no network, plus a PNG per chart.",
    )
    plots.add_argument("--base", metavar="REV", help="git revision to compare the workspace with")
    plots.add_argument(
        "--out",
        default=PLOTS_DIR,
        metavar="DIR",
        help="output directory, git-ignored (default: %(default)s)",
    )
    plots.set_defaults(handler=_plots)

    report = commands.add_parser(
        "report",
        help="pull-request report: what the workspace changed against a base revision",
        description="Compare the workspace with a base revision: params, metrics and plots, as "
        "Markdown with PNG images (DVC's own params/metrics/plots diff underneath).",
    )
    report.add_argument(
        "--base",
        default="main",
        metavar="REV",
        help="git revision to compare with (default: %(default)s)",
    )
    report.add_argument(
        "--out",
        default=REPORT_FILE,
        metavar="FILE",
        help="Markdown file to write (default: %(default)s)",
    )
    report.add_argument(
        "--images",
        default=REPORT_IMAGES,
        metavar="DIR",
        help="directory for the report's images (default: %(default)s)",
    )
    report.add_argument(
        "--image-url",
        metavar="URL",
        help="where the images are published (a folder URL ending in /), for a report read "
        "elsewhere, e.g. a pull-request comment (default: beside the report)",
    )
    report.set_defaults(handler=_report)

    exps = commands.add_parser(
        "exps",
        help="every experiment, headline columns only",
        description="`dvc exp show` cut to: experiment, changed params, protocol ROC-AUC ± SE, "
        "log-loss, segment size, expected profit; no wider than the terminal.",
    )
    exps.add_argument("--width", type=positive, metavar="N", help="columns (default: terminal)")
    exps.set_defaults(handler=_exps)


def build_parser() -> argparse.ArgumentParser:
    """The `oneclick` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="oneclick",
        description="«В один клик»: score a new period's customers, measure last period's "
        "campaign, review experiments. "
        "The pipeline itself runs with `dvc repro` (dvc.yaml).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_predict(commands)
    add_outcomes(commands)  # oneclick/campaign/command.py
    _add_review(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `oneclick` console script."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    entry.run(lambda: args.handler(args))
