"""Stage `clean`: validate the store's four files, fix what is fixable, report every fix.

Logic: oneclick/data/cleaning.py (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from oneclick.core import config, entry, paths, writers
from oneclick.data.cleaning import clean_tables
from oneclick.data.contract import INPUT_FILES
from oneclick.data.quality import quality_figures, quality_markdown
from oneclick.data.reading import read_raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, help="instead of data.raw_dir (runs by hand)")
    args = parser.parse_args()
    params = config.load_stage("clean")
    # dvc.yaml passes no argument: data.raw_dir comes from params.yaml, never through a shell
    source = args.input or paths.ROOT / params["data"]["raw_dir"]
    tables, quality = clean_tables(read_raw(source), params["clean"])
    # Only now, with everything validated, are outputs touched (and progress logged: a bad input
    # must end in exactly one line on stderr).
    entry.log.info("clean: %s valid, writing %s", source, paths.CLEAN_DIR)
    with writers.together():  # every output or none: never a mix of new and old files
        for spec in INPUT_FILES:
            writers.write_csv(tables[spec.key], paths.CLEAN_DIR / spec.filename)
        writers.write_json(quality_figures(quality), paths.DATA_QUALITY_METRICS)
        writers.write_text(quality_markdown(quality), paths.DATA_QUALITY_REPORT)
        config.check_unchanged("clean", params)
    entry.log.info("clean: %s", quality_markdown(quality).split("\n")[2])


if __name__ == "__main__":
    entry.run(main)
