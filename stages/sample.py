"""Stage `sample`: write the synthetic stand-in for the store's four files.

Logic: oneclick/sample/files.py (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from oneclick.core import config, entry, paths, writers
from oneclick.sample.files import check_output_dir, check_size, generate, write_files


def main() -> None:
    all_params = config.load_params()
    params = all_params["sample"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=paths.SAMPLE_DIR)
    parser.add_argument("--n-customers", type=int, default=params["n_customers"])
    parser.add_argument("--seed", type=int, default=params["seed"])
    args = parser.parse_args()
    check_size(args.n_customers)  # before the progress line and the time spent generating
    check_output_dir(args.output)
    entry.log.info("generating %d customers (seed %d)", args.n_customers, args.seed)
    files = generate(args.n_customers, args.seed)
    with writers.together():
        write_files(files, args.output)
        config.check_unchanged("sample", all_params)


if __name__ == "__main__":
    entry.run(main)
