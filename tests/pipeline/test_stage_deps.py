"""dvc.yaml: each stage depends on its entry script and exactly the oneclick package folders its
command imports (transitively), so a code change reruns the stages it affects and no others."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from oneclick.core.paths import ROOT

PACKAGE = "oneclick"


def module_file(module: str) -> Path | None:
    """The file of a project module (stages.x or oneclick.x.y), None for anything else."""
    base = ROOT / module.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(module: str, seen: set[str] | None = None) -> set[str]:
    """`module` and every project module it imports, transitively (lazy imports included)."""
    seen = set() if seen is None else seen
    path = module_file(module)
    if module in seen or path is None:
        return seen
    seen.add(module)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            if name.split(".")[0] in (PACKAGE, "stages"):
                imported_modules(name, seen)
    return seen


def dependency(module: str) -> str | None:
    """The dvc.yaml dep a module stands for: its package folder (oneclick/data) or its file."""
    parts = module.split(".")
    if parts == [PACKAGE]:
        return None  # the package's __init__ holds a docstring only (checked below)
    if parts[0] == PACKAGE and (ROOT / PACKAGE / parts[1]).is_dir():
        return f"{PACKAGE}/{parts[1]}"
    return module_file(module).relative_to(ROOT).as_posix()


def stage_code_deps(command: str) -> set[str]:
    module = command.split(" -m ")[1].split()[0]
    return {d for m in imported_modules(module) if (d := dependency(m)) and m != "stages"}


def test_every_stage_depends_on_exactly_the_code_it_imports() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    for name, stage in stages.items():
        imported = stage_code_deps(stage["cmd"])
        declared = {d for d in stage["deps"] if d.startswith(("stages/", f"{PACKAGE}/"))}
        missing, extra = sorted(imported - declared), sorted(declared - imported)
        assert declared == imported, (name, missing, extra)


def test_only_the_segment_stage_renders_text() -> None:
    """What people read (oneclick/text, report.language) reruns segment alone: no stage that
    computes data, a model or SHAP values draws a label (the SHAP plots are segment's)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    rendering = {
        name
        for name, stage in stages.items()
        if f"{PACKAGE}/text" in stage["deps"] or "report.language" in stage.get("params", [])
    }
    assert rendering == {"segment"}, rendering
    drawn = {next(iter(p)) if isinstance(p, dict) else p for p in stages["segment"]["plots"]}
    assert "plots/shap" in drawn, drawn  # the SHAP plots, labelled


def test_package_init_runs_no_code() -> None:
    """No stage declares oneclick/__init__.py, so it must not be able to change a result."""
    tree = ast.parse((ROOT / PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    assert len(tree.body) == 1 and isinstance(tree.body[0].value, ast.Constant)


def test_stage_modules_hold_only_entry_points() -> None:
    """stages/*.py: a docstring, imports and main(); the logic lives in the package."""
    for path in sorted((ROOT / "stages").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert functions in ([], ["main"]), (path.name, functions)
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 80, path.name


# Who may import whom: a subpackage imports only subpackages of a lower layer. campaign reads
# the feature spec (features) and is used by segment (its report's control-group and power
# section), so segment sits one layer above it, beside explain (neither imports the other).
# text (what people read: vocabulary, phrases, number formats) reads the data contract's names
# and is imported only by code that renders text.
LAYERS = {
    "core": 0,
    "data": 1,
    "review": 1,
    "sample": 2,
    "text": 2,
    "features": 2,
    "model": 3,
    "campaign": 3,
    "segment": 4,
    "explain": 4,
    "scoring": 5,
    "cli": 6,
}


def test_subpackages_import_only_lower_layers() -> None:
    found = {p.name for p in (ROOT / PACKAGE).iterdir() if (p / "__init__.py").is_file()}
    assert found | {"cli"} == set(LAYERS)
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = path.relative_to(ROOT / PACKAGE).with_suffix("").parts
        owner = parts[0]
        if owner == "__init__":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(f"{PACKAGE}."):
                target = node.module.split(".")[1]
                assert target == owner or LAYERS[target] < LAYERS[owner], (path.name, target)
