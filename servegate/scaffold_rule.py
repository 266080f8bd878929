"""``make new-rule RULE=family.kebab-name``: start a rule with its docs and its two fixtures.

Writes ``servegate/rules/<family>/<name>.py`` (docstring under the five doc headings, a RULE
that reports nothing yet) and ``tests/fixtures/rules/<id>/{pass,fail}.basic.yaml``. The fail
fixture carries one ``# expect:`` marker, so the generic fixture test fails until the check is
written: the scaffold is a to-do list, not a finished rule. Existing files are never replaced.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

_ID = re.compile(r"^([a-z]+)\.([a-z0-9]+(?:-[a-z0-9]+)*)$")

_MODULE = '''"""## What it does
TODO: one paragraph: what {rule_id} flags, in which kinds.

## Why is this bad?
TODO: the risk, in terms a platform engineer recognises.

## Example
```yaml
TODO
```

## Use instead
```yaml
TODO
```

## References
- TODO
"""

from __future__ import annotations

from collections.abc import Iterator

from servegate.model import Severity
from servegate.resource import Resource
from servegate.rules.base import Context, Scope, Violation, rule


def check(resource: Resource, ctx: Context) -> Iterator[Violation]:
    return iter(())  # TODO: yield Violation(path, reason, detail)


RULE = rule(
    "{rule_id}",
    "TODO: title",
    Severity.ERROR,
    Scope.OBJECT,
    check,
    kinds={{"TODO"}},
    doc=__doc__,
)
'''

_FIXTURE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: example{marker}
data: {{}}
"""


def scaffold(rule_id: str, root: Path) -> list[Path]:
    """Create the files for ``rule_id`` under ``root``; raise ValueError on a bad id or clash."""
    match = _ID.match(rule_id)
    if match is None:
        raise ValueError(f"rule id {rule_id!r} must be family.kebab-name, e.g. kserve.model-format")
    family, name = match.groups()
    package = root / "servegate" / "rules" / family
    module = package / f"{name.replace('-', '_')}.py"
    fixtures = root / "tests" / "fixtures" / "rules" / rule_id
    planned = {
        module: _MODULE.format(rule_id=rule_id),
        fixtures / "pass.basic.yaml": _FIXTURE.format(marker=""),
        fixtures / "fail.basic.yaml": _FIXTURE.format(marker=f"  # expect: {rule_id}"),
    }
    if not (package / "__init__.py").exists():
        planned[package / "__init__.py"] = ""
    clashes = [str(p) for p in planned if p.exists()]
    if clashes:
        raise ValueError(f"already exists: {', '.join(clashes)}")
    for path, text in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(planned)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (1, 2):
        print("usage: make new-rule RULE=family.kebab-name", file=sys.stderr)
        return 2
    root = Path(args[1]) if len(args) == 2 else Path(__file__).resolve().parent.parent
    try:
        written = scaffold(args[0], root)
    except ValueError as err:
        print(f"servegate: error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
