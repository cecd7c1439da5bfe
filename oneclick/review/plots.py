"""Render DVC plots with no network: `dvc plots show/diff --json` -> one self-contained HTML page.

DVC's own HTML pulls Vega from a CDN, so it is blank on a closed server or in a downloaded CI
artifact. Here the same Vega-Lite specs are embedded in a page that carries the Vega libraries
inline (vl-convert bundles them offline), and each chart is also rendered to a PNG.

    oneclick plots                 # workspace only      (make plots)
    oneclick plots --base main     # main vs workspace   (make plots BASE=main)
"""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path
from typing import Any

import yaml

from oneclick.core.entry import log
from oneclick.core.paths import ROOT
from oneclick.core.writers import write_bytes, write_text
from oneclick.review.outdir import fresh_dir
from oneclick.review.vcs import dvc_json

TEMPLATE = Path(__file__).parent / "templates" / "offline.html"
BUNDLE_MARKER = "<!-- vega bundle -->"
# Editor links would leave the machine; export and source views work offline.
EMBED_OPTIONS = {"actions": {"export": True, "source": True, "compiled": False, "editor": False}}


def named_plots(dvc_yaml: dict[str, Any]) -> tuple[list[str], set[str]]:
    """Ids of the top-level plots in dvc.yaml and the data files they draw from."""
    ids: list[str] = []
    files: set[str] = set()
    for entry in dvc_yaml.get("plots") or []:
        name, props = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        ids.append(name)
        for axis in ("x", "y"):
            value = (props or {}).get(axis)
            if isinstance(value, dict):
                files.update(value)
    return ids, files - set(ids)


def select_plots(plots: dict[str, list], skip: set[str]) -> dict[str, list]:
    """Drop DVC's default step-vs-column rendering of files that a named plot already draws."""
    return {name: entries for name, entries in plots.items() if name not in skip}


def static_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec for a still image: checkbox params (the confusion matrix's counts) switched on."""
    spec = copy.deepcopy(spec)
    for param in spec.get("params", []):
        bind = param.get("bind")
        if isinstance(bind, dict) and bind.get("input") == "checkbox":  # nobody can tick a PNG
            param["value"] = True
    return spec


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def render_png(spec: dict[str, Any], scale: float = 1.0) -> bytes:
    import vl_convert

    return vl_convert.vegalite_to_png(static_spec(spec), scale=scale)


def offline_template(template: str, bundle: str) -> str:
    """The page template with the Vega libraries inline; also valid for --html-template."""
    script = "<script>\n" + bundle.replace("</script", "<\\/script") + "\n</script>"
    return template.replace(BUNDLE_MARKER, script)


def plot_sections(plots: dict[str, list]) -> str:
    """HTML of every plot: Vega-Lite specs embedded live, images by file name (beside the page)."""
    options = json.dumps(EMBED_OPTIONS)
    parts = []
    for i, (name, entries) in enumerate(plots.items()):
        parts.append(f"<section>\n<h2>{html.escape(name)}</h2>")
        for j, entry in enumerate(entries):
            revs = html.escape(", ".join(entry.get("revisions", [])))
            if entry["type"] == "vega":
                spec = json.dumps(entry["content"], ensure_ascii=False).replace("</", "<\\/")
                div = f"plot-{i}-{j}"
                parts.append(
                    f'<div id="{div}" class="vega"></div>\n'
                    f'<script>vegaEmbed("#{div}", {spec}, {options});</script>'
                )
            elif entry["type"] == "image":
                src = html.escape(Path(entry["url"]).name)
                parts.append(
                    f'<figure><a href="{src}"><img src="{src}" alt="{src}"></a>'
                    f"<figcaption>{revs}</figcaption></figure>"
                )
        parts.append("</section>")
    return "\n".join(parts)


def page(template: str, body: str) -> str:
    return template.replace("{refresh_tag}", "").replace("{plot_divs}", body)


def fetch_plots(base: str | None, out: Path, targets: list[str] | None = None) -> dict[str, list]:
    """Plot specs from DVC: images are copied into `out` by DVC itself."""
    args = ["plots", "diff", base] if base else ["plots", "show"]
    if targets:
        args += ["--targets", *targets]
    result = dvc_json([*args, "-o", str(out)])
    for error in result.get("errors", []) or []:
        log.warning("dvc plots: %s", error)
    return result.get("data", {})


def offline_plots(base: str | None, out_dir: str) -> None:
    """Every plot of dvc.yaml (workspace, or base vs workspace) as an offline page in out_dir."""
    import vl_convert

    out = fresh_dir(ROOT / out_dir, "plots")
    _, skip = named_plots(yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8")))
    plots = select_plots(fetch_plots(base, out), skip)
    template = offline_template(
        TEMPLATE.read_text(encoding="utf-8"),
        vl_convert.javascript_bundle(),  # type: ignore[call-arg]  # optional at runtime
    )
    write_text(template, out / "offline_template.html")
    write_text(page(template, plot_sections(plots)), out / "index.html")
    specs = [(n, e["content"]) for n, es in plots.items() for e in es if e["type"] == "vega"]
    log.info("rendering %d charts to %s", len(specs), out / "static")
    for name, spec in specs:
        write_bytes(render_png(spec), out / "static" / f"{slug(name)}.png")
    print(f"{out / 'index.html'} ({len(plots)} plots, works offline)")
