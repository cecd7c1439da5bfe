"""Stage `merge`: one row per customer (data/merged/customers.csv) and the EDA plots.

Logic: oneclick/data/merging.py (this entry point reads params and paths, writes outputs).
"""

from __future__ import annotations

from oneclick.core import entry, paths, writers
from oneclick.data.merging import (
    merge_tables,
    plot_categorical,
    plot_class_balance,
    plot_numeric,
    read_clean,
)


def main() -> None:
    merged = merge_tables(read_clean(paths.CLEAN_DIR))
    entry.log.info("merge: %d customers x %d columns -> %s", *merged.shape, paths.MERGED_FILE)
    writers.setup_matplotlib()
    with writers.together():  # merge reads no params: nothing to check at the end
        writers.write_csv(merged, paths.MERGED_FILE, index=True)
        for name, plot in (
            ("class_balance", plot_class_balance),
            ("numeric_by_class", plot_numeric),
            ("categorical_by_class", plot_categorical),
        ):
            writers.save_figure(plot(merged), paths.EDA_PLOTS_DIR / f"{name}.png")
    entry.log.info("merge: EDA plots -> %s", paths.EDA_PLOTS_DIR)


if __name__ == "__main__":
    entry.run(main)
