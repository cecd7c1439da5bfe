"""dvc.yaml: each stage lists exactly the stages/ modules its command imports (transitively), so
a code change reruns the stages it affects and no others."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from stages import common


def module_path(module: str) -> Path:
    return common.ROOT / (module.replace(".", "/") + ".py")


def stage_modules(module: str, seen: set[str] | None = None) -> set[str]:
    """Project-relative paths of `module` and every stages.* module it imports."""
    seen = set() if seen is None else seen
    if module in seen or not module_path(module).is_file():
        return seen
    seen.add(module)
    for node in ast.walk(ast.parse(module_path(module).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("stages"):
            names = [f"stages.{a.name}" for a in node.names] if node.module == "stages" else []
            for name in [*names, node.module]:
                stage_modules(name, seen)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("stages"):
                    stage_modules(alias.name, seen)
    return seen


def test_every_stage_depends_on_exactly_the_modules_it_imports() -> None:
    stages = yaml.safe_load((common.ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    for name, stage in stages.items():
        module = stage["cmd"].split(" -m ")[1].split()[0]
        imported = {
            module_path(m).relative_to(common.ROOT).as_posix()
            for m in stage_modules(module)
            if m != "stages"
        }
        declared = {dep for dep in stage["deps"] if dep.startswith("stages/")}
        missing, extra = sorted(imported - declared), sorted(declared - imported)
        assert declared == imported, (name, missing, extra)
