"""The restricted policy set over KServe's own examples: many findings, never a crash.

KServe's samples and website snippets are what real users copy; they are not hardened, so the
check must report (exit 1) rather than fail to run (exit 2) or raise.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from helpers import upstream_dir

from servegate.cli import main


def test_kserve_examples_produce_findings_without_crashing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    examples = upstream_dir() / "examples" / "kserve"
    capsys.readouterr()
    code = main(["check", str(examples), "--format", "json"])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    report = json.loads(captured.out)
    assert report["summary"]["resources"] > 400
    rules = Counter(f["rule"] for f in report["findings"])
    # The families these rules belong to all see the examples' InferenceServices.
    for rule_id in ("kserve.service-account", "kserve.resources", "pss.run-as-non-root"):
        assert rules[rule_id] > 50, rules.most_common(10)
    assert code == 1
    print("top rules:", rules.most_common(5))
