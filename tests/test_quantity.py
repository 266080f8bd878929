"""Kubernetes quantities (``servegate.quantity``), against apimachinery's grammar."""

from __future__ import annotations

from fractions import Fraction

import pytest

from servegate.quantity import QuantityError, is_quantity, parse


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("100m", Fraction(1, 10)),
        ("1Gi", 1024**3),
        ("1.5Gi", 3 * 1024**3 // 2),
        ("500M", 500 * 10**6),
        ("1e3", 1000),
        ("1E-2", Fraction(1, 100)),
        (".5", Fraction(1, 2)),
        ("5.", 5),
        ("-1k", -1000),
        ("+2n", Fraction(2, 10**9)),
        (3, 3),
        (0.25, Fraction(1, 4)),
    ],
)
def test_parses(text: object, value: object) -> None:
    assert parse(text) == value


@pytest.mark.parametrize(
    "text", ["", "1Gx", "500 Mi", "1.2.3", "Gi", "1ki", "e3", True, None, [1], "1" * 70]
)
def test_refuses(text: object) -> None:
    with pytest.raises(QuantityError):
        parse(text)
    assert not is_quantity(text)
