"""Messages stay one readable line (oneclick/core/errors.py, printed by entry.run): values
shortened with their length, terminal escapes and invisible or look-alike characters shown,
line breaks escaped."""

from __future__ import annotations

import pytest

from oneclick.core import entry
from oneclick.core.errors import LINE_LIMIT, DataError, readable, shown_value


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("line\nbreak\r\n", "line\\nbreak\\r\\n"),
        ("tab\there", "tab\\there"),
        ("\x1b[2J\x1b]0;title\x07", "<U+001B>[2J<U+001B>]0;title<U+0007>"),
        ("zero\u200bwidth", "zero<U+200B>width"),
        ("no\u00a0break", "no<U+00A0>break"),
        ("бесплатнаи\u0306", "бесплатнаи<U+0306>"),  # decomposed й
        ("right\u202etxt", "right<U+202E>txt"),  # the bidi override that reverses text
        ("стандaрт", "стандaрт (Latin a in a Cyrillic word)"),
        (
            "сcылка и Cтандарт",
            "сcылка и Cтандарт (Latin c in a Cyrillic word; Latin C in a Cyrillic word)",
        ),
        ("премиум", "премиум"),
        ("plain words", "plain words"),
    ],
)
def test_readable_shows_what_a_terminal_would_hide_or_act_on(text: str, shown: str) -> None:
    assert readable(text) == shown


def test_a_huge_message_is_cut_in_the_middle_with_its_length() -> None:
    text = "file.csv: column x: " + "я" * 10_000_000 + " end"
    line = readable(text)
    assert len(line) < LINE_LIMIT + 60
    assert line.startswith("file.csv: column x: яяя") and line.endswith("яя end")
    assert "of 10,000,024 characters" in line


def test_values_are_quoted_and_shortened_with_their_length() -> None:
    assert shown_value("стандарт") == '"стандарт"'
    assert shown_value(3) == "3" and shown_value(None) == "null" and shown_value(True) == "true"
    assert shown_value(float("nan")) == "nan" and shown_value(float("inf")) == "inf"
    long = shown_value("x" * 1000)
    assert long.startswith('"xxx') and long.endswith("... (1,002 characters)") and len(long) < 110


def test_entry_prints_one_readable_line(capsys: pytest.CaptureFixture) -> None:
    def main() -> None:
        raise DataError("market_file.csv: column x: value 'a\nb\x1b[2J' " + "z" * 5000)

    with pytest.raises(SystemExit) as exit_info:
        entry.run(main)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and "\x1b" not in err and len(err) < LINE_LIMIT + 80
    assert err.startswith("error: market_file.csv: column x: value 'a\\nb<U+001B>[2J' zzz")


def test_progress_reports_after_the_first_item_every_few_seconds_never_after_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter([100.0, 101.0, 106.0, 107.0, 112.0, 130.0])  # item 1 took 100 s: start-up
    monkeypatch.setattr(entry.time, "monotonic", lambda: next(clock))
    progress = entry.Progress(total=6, every=5)
    assert progress.left(1) is None  # the clock starts here
    assert progress.left(2) is None  # 1 s since it started: too soon
    assert progress.left(3) == pytest.approx(6 / 2 * 3)  # 3 s per item since the first
    assert progress.left(4) is None  # 1 s since the last line
    assert progress.left(5) == pytest.approx(12 / 4 * 1)
    assert progress.left(6) is None  # done: nothing left to announce
