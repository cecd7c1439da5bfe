"""Stage `sample`: write the synthetic stand-in for the store's four files.

Logic: oneclick/sample/files.py (this entry point reads params and paths, writes outputs).
With --next-period (not a DVC stage: run by hand or by tests) it writes the same customers a
period later instead, with a known offer effect and optional drift: oneclick/sample/next_period.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from oneclick.core import config, entry, guard, paths, writers
from oneclick.core.errors import DataError
from oneclick.sample.files import check_output_dir, check_size, generate, write_files
from oneclick.sample.next_period import (
    TRUTH_FILE,
    add_options,
    next_period,
    parse_drift,
    parse_harmful,
    read_campaign,
)


def main() -> None:
    all_params = config.load_stage("sample")
    params = all_params["sample"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=paths.SAMPLE_DIR, help="directory to write")
    parser.add_argument("--n-customers", type=int, default=params["n_customers"])
    parser.add_argument("--seed", type=int, default=params["seed"])
    parser.add_argument(
        "--next-period",
        action="store_true",
        help="write the same customers (same --n-customers and --seed) a period later, with "
        "the target; needs --campaign; the truth goes to next_period.json beside the files",
    )
    add_options(parser)
    args = parser.parse_args()
    check_size(args.n_customers)  # before the progress line and the time spent generating
    # the sample stage's own output (data/sample) is its to write; anything else of the project not
    guard.check_output(args.output, "--output", folder=True, own=[paths.SAMPLE_DIR])
    check_output_dir(args.output)
    if not args.next_period:
        if args.campaign or args.effect or args.drift or args.harmful or args.response != "uniform":
            raise DataError(
                "--campaign, --effect, --drift, --response and --harmful need --next-period"
            )
        entry.log.info("generating %d customers (seed %d)", args.n_customers, args.seed)
        files = generate(args.n_customers, args.seed)
        with writers.together():
            write_files(files, args.output)
            config.check_unchanged("sample", all_params)
        return
    if args.output.resolve() == paths.SAMPLE_DIR.resolve() or args.campaign is None:
        raise DataError("--next-period needs --campaign and an --output other than data/sample")
    drift, campaign = parse_drift(args.drift), read_campaign(args.campaign)
    entry.log.info("next period of %d customers (seed %d)", args.n_customers, args.seed)
    harmful = parse_harmful(args.harmful)
    files, truth = next_period(
        args.n_customers, args.seed, campaign, args.effect, drift, args.response, harmful
    )
    with writers.together():
        write_files(files, args.output)
        writers.write_json(truth, args.output / TRUTH_FILE)


if __name__ == "__main__":
    entry.run(main)
