"""Change rules: compare an object with itself at the ``--base`` revision (diff-aware mode).

They have scope ENGINE: only ``check --base`` runs them (see servegate/changes.py), with the
signature ``check(before: dict | None, after: Resource, ctx: Context) -> Iterator[Violation]``.
"""
