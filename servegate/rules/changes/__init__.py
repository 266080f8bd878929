"""Change rules: compare an object with itself at the ``--base`` revision (diff-aware mode).

They have scope CHANGE: only ``check --base`` runs them (``servegate.changes`` pairs the
objects, ``servegate.evaluate`` runs the rules with the unit's context), with the signature
``check(before: Resource | None, after: Resource, ctx: Context) -> Iterator[Violation]``.
"""
