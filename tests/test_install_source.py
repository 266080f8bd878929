"""Where a generated repo installs servegate from (servegate/install.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from servegate import __version__, install


@pytest.mark.parametrize(
    ("location", "rev", "kind", "spec"),
    [
        ("pypi", None, "index", f"servegate=={__version__}"),
        ("pypi", "0.2.0", "index", "servegate==0.2.0"),
        (
            "https://files.example.com/servegate-0.1.0-py3-none-any.whl#sha256=ab12",
            None,
            "wheel",
            "https://files.example.com/servegate-0.1.0-py3-none-any.whl#sha256=ab12",
        ),
        (
            "https://github.com/acme/servegate",
            "v0.1.0",
            "git",
            "git+https://github.com/acme/servegate@v0.1.0",
        ),
        (
            "git+ssh://git@git.example.com/sg.git",
            "0123abcd",
            "git",
            "git+ssh://git@git.example.com/sg.git@0123abcd",
        ),
    ],
)
def test_sources_and_their_pip_spec(location: str, rev: str | None, kind: str, spec: str) -> None:
    source = install.parse(location, rev)
    assert source.kind == kind and source.spec == spec and not source.local


def test_a_wheel_path_becomes_a_file_url(tmp_path: Path) -> None:
    wheel = tmp_path / "servegate-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    source = install.parse(str(wheel), None)
    assert source.spec == wheel.as_uri() and source.local and source.schema_url is None


@pytest.mark.parametrize(
    ("location", "rev", "message"),
    [
        ("https://github.com/acme/servegate", None, "give the revision"),
        ("https://github.com/acme/servegate", "$(id)", "expected a git commit or tag"),
        ("https://x/servegate.whl", "v1", "not a wheel"),
        ("http://x/servegate-0.1.0-py3-none-any.whl", None, "https:// or file://"),
        ("/no/such/servegate-0.1.0-py3-none-any.whl", None, "no such wheel"),
        ('https://x/" ; rm -rf /', "v1", "no spaces, quotes"),
        ("ftp://example.com/servegate", "v1", "a git URL is"),
        ("pypi", "latest", "needs a version"),
    ],
)
def test_unusable_sources_are_refused(location: str, rev: str | None, message: str) -> None:
    with pytest.raises(install.SourceError, match=message):
        install.parse(location, rev)


class _Dist:
    def __init__(self, direct_url: dict[str, Any] | None) -> None:
        self.text = None if direct_url is None else json.dumps(direct_url)

    def read_text(self, name: str) -> str | None:
        assert name == "direct_url.json"
        return self.text


@pytest.mark.parametrize(
    ("direct_url", "spec"),
    [
        (None, f"servegate=={__version__}"),  # from an index
        (
            {
                "url": "https://github.com/acme/servegate",
                "vcs_info": {"vcs": "git", "commit_id": "c0ffee"},
            },
            "git+https://github.com/acme/servegate@c0ffee",
        ),
        (
            {
                "url": "file:///w/servegate-0.1.0-py3-none-any.whl",
                "archive_info": {"hashes": {"sha256": "ab"}},
            },
            "file:///w/servegate-0.1.0-py3-none-any.whl#sha256=ab",
        ),
    ],
)
def test_installed_reads_pips_record_of_the_origin(
    monkeypatch: pytest.MonkeyPatch, direct_url: dict[str, Any] | None, spec: str
) -> None:
    """PEP 610: pip records where a distribution came from in direct_url.json."""
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: _Dist(direct_url))
    install.installed.cache_clear()
    try:
        assert install.installed().spec == spec
    finally:
        install.installed.cache_clear()


def test_this_editable_checkout_is_its_git_commit() -> None:
    here = install.installed()
    root = Path(__file__).resolve().parents[1]
    if here.kind != "git" or not here.local:
        pytest.skip("servegate is not installed editable from this checkout")
    assert here.location == root.as_uri() and len(here.rev) == 40
