"""The `oneclick outcomes` subcommand: its options and help (imports its libraries only when run,
so `oneclick --help` stays instant)."""

from __future__ import annotations

import argparse
from pathlib import Path

from oneclick.core import paths

OUTCOMES_DIR = Path("outcomes")  # git-ignored: on the store's files it describes real customers


def _run(args: argparse.Namespace) -> None:
    from oneclick.campaign.outcomes import outcomes

    scores = args.scores
    if scores == paths.SCORES_FILE and not scores.is_file():
        scores = None  # the default is optional: judge the model on the control group then
    outcomes(args.campaign, args.input, scores, args.output_dir, args.pre, args.log, args.period)


def add_outcomes(commands: argparse._SubParsersAction) -> None:
    """Register `outcomes` with the CLI's subparsers."""
    parser = commands.add_parser(
        "outcomes",
        help="last period's campaign measured on the next period: offers' effect, the model's "
        "realised quality, feature drift",
        description="Measure last period's campaign on the next period's four files (with the "
        "target): the decline rate of the customers who got an offer vs the control group, the "
        "drop with its 95% interval (Newcombe) and the profit it implies; the model's ROC-AUC "
        "and calibration on customers without an offer; per-feature PSI drift against the "
        "training part. Beside it, the drop adjusted for pre-campaign covariates (Lin 2013, HC2 "
        "errors) and its variance reduction, the drop by offer and by risk band, and whether "
        "an uplift model beats risk targeting. With --log and --period the campaign is "
        "appended to an intervention log and the breakdowns read every period in it. The "
        "files pass the pipeline's cleaning contract, merge and feature spec. Writes "
        "outcomes.json and a Russian outcomes.md. Bad input: one `error:` line, exit code 2.",
    )
    parser.add_argument(
        "--campaign",
        type=Path,
        required=True,
        metavar="FILE",
        help="last period's campaign table: data/segment/customers.csv as the segment stage "
        "wrote it (id, group, probability, profit)",
    )
    parser.add_argument(
        "--input",
        type=Path,
        required=True,
        metavar="DIR",
        help="the next period's market_file.csv, market_money.csv, market_time.csv, money.csv; "
        "market_file.csv must hold the target (Покупательская активность)",
    )
    parser.add_argument(
        "--scores",
        type=Path,
        default=paths.SCORES_FILE,
        metavar="FILE",
        help="last period's P(decline) of every customer (id, probability), to judge the model "
        "on everyone without an offer; when the default is absent, the control group alone "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--pre",
        type=Path,
        metavar="DIR",
        help="the campaign period's four files (those the campaign was chosen from): their "
        "features and target are the covariates of the adjusted effect and of the uplift "
        "model; without it, P(decline) alone",
    )
    parser.add_argument(
        "--log",
        type=Path,
        metavar="FILE",
        help="intervention log (CSV) to append this campaign to, one row per customer; "
        "created when absent; version it with `dvc add`, never git (real customers)",
    )
    parser.add_argument(
        "--period",
        metavar="NAME",
        help="the campaign's period as the log records it (e.g. 2026-11); a period already "
        "in the log is refused; needs --log",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=OUTCOMES_DIR,
        metavar="DIR",
        help="where outcomes.json and outcomes.md go; on the store's files they describe real "
        "customers: keep them out of git (default: %(default)s, git-ignored)",
    )
    parser.set_defaults(handler=_run)
