"""One error style across commands, and colour as NO_COLOR and FORCE_COLOR ask."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Run, write_tree

PRIVILEGED = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n"
    "    image: busybox:1.36\n    securityContext: {privileged: true}\n"
)


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--format", "foo"],
        ["check", "--no-such-flag"],
        ["check", "/no/such/path"],
        ["no-such-command"],
        ["promote"],
        ["merge", "/no/such/report.json"],
        ["new", "x", "--no-input", "--framework", "nope"],
        ["new", "x", "--no-input", "--servegate-source", "not a url"],
        ["new", "x", "--no-input", "--servegate-source", "https://git.example.com/sg.git"],
        ["explain", "no.such-rule"],
        ["schemas", "build", "--from", "/no/such/dir", "--out", "/tmp/x"],
        ["check", "--shard", "0/2"],
    ],
    ids=lambda a: " ".join(a),
)
def test_every_command_errs_in_one_line_of_one_style(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    run = cli(*args)
    assert run.code == 2, run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("servegate: error: "), run.err
    assert "Traceback" not in run.err and "Usage:" not in run.err
    assert not any(tmp_path.iterdir()), "an error writes nothing"


def test_usage_errors_name_the_help_to_read(cli: Callable[..., Run]) -> None:
    run = cli("check", "--format", "foo")
    assert "'foo' is not one of" in run.err and "(see 'servegate check --help')" in run.err


@pytest.mark.parametrize(
    ("env", "colored"),
    [
        ({}, False),  # not a terminal
        ({"FORCE_COLOR": "1"}, True),
        ({"FORCE_COLOR": "0"}, True),  # force-color.org: any non-empty value
        ({"FORCE_COLOR": ""}, False),
        ({"NO_COLOR": "1"}, False),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True),  # FORCE_COLOR has the last word
    ],
)
def test_force_color_and_no_color(
    cli: Callable[..., Run],
    tree: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    colored: bool,
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    root = tree({"pod.yaml": PRIVILEGED})
    run = cli("check", root, "--select", "pss.privileged")
    assert run.code == 1
    assert ("\x1b[31m" in run.out) is colored, run.out
    assert "pss.privileged" in run.out


def test_a_report_file_never_has_color(
    cli: Callable[..., Run], tree: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    root = tree({"pod.yaml": PRIVILEGED})
    out = root.parent / "report.txt"
    run = cli("check", root, "--select", "pss.privileged", "-o", out)
    assert run.code == 1
    text = out.read_text(encoding="utf-8")
    assert "pss.privileged" in text and "\x1b[" not in text


def test_merge_text_follows_force_color(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_tree(tmp_path / "repo", {"pod.yaml": PRIVILEGED})
    part = tmp_path / "s.json"
    cli("check", root, "--shard", "1/1", "--format", "json", "-o", part)
    monkeypatch.setenv("FORCE_COLOR", "1")
    run = cli("merge", "--format", "text", part)
    assert run.code == 1 and "\x1b[31m" in run.out
