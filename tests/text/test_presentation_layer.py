"""Integration: what people read lives in oneclick/text, and only the stages that render text
depend on it, so renaming an offer or a unit never reruns the data, model or protocol stages."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import clone_project, dvc, set_params


def test_an_offer_renamed_in_the_vocabulary_reruns_only_text_stages(
    reproduced_project: Path, tmp_path: Path
) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")
    vocabulary = repo / "oneclick" / "text" / "vocabulary.py"
    text = vocabulary.read_text(encoding="utf-8")
    renamed = text.replace('"Напоминание о корзине"', '"Напомнить о корзине"')
    assert renamed != text
    vocabulary.write_text(renamed, encoding="utf-8")
    stale = set(json.loads(dvc(["status", "--json"], repo).stdout))
    # segment renders every text, the SHAP plots' labels included; shap writes values only
    assert stale == {"segment"}, stale


def test_the_report_language_reruns_only_text_stages(
    reproduced_project: Path, tmp_path: Path
) -> None:
    repo = clone_project(reproduced_project, tmp_path / "repo")
    set_params(repo, {"report": {"language": "en"}})
    stale = set(json.loads(dvc(["status", "--json"], repo).stdout))
    assert stale == {"segment"}, stale
