"""Kubernetes resource quantities (``100m``, ``1Gi``, ``1e3``), parsed exactly.

The grammar is kubernetes/apimachinery ``pkg/api/resource/quantity.go`` (``ParseQuantity``):
a signed decimal number (``1``, ``1.5``, ``.5``, ``5.``) followed by a binary-SI suffix
(``Ki Mi Gi Ti Pi Ei``), a decimal-SI suffix (``n u m k M G T P E`` or none) or a decimal
exponent (``e3``, ``E-2``). Values are exact :class:`fractions.Fraction` numbers.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<binary>Ki|Mi|Gi|Ti|Pi|Ei)|(?P<exp>[eE][+-]?[0-9]+)|(?P<decimal>[numkMGTPE]?))"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
MAX_LENGTH = 64
"""Longer strings are refused (upstream bounds a quantity's digits; this keeps work bounded)."""


class QuantityError(ValueError):
    """Not a quantity; the message says why, as ``ParseQuantity`` would."""


def parse(text: object) -> Fraction:
    """The exact value of a quantity given as a string or a JSON number.

    Raises :class:`QuantityError` for anything else (upstream: "quantities must match the
    regular expression ..."), including booleans and strings with spaces."""
    if isinstance(text, bool):
        raise QuantityError("quantities must be a string or a number")
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        if text != text or text in (float("inf"), float("-inf")):
            raise QuantityError("quantities must be finite")
        return Fraction(text)
    if not isinstance(text, str):
        raise QuantityError("quantities must be a string or a number")
    return _parse_string(text)


@lru_cache(maxsize=1024)
def _parse_string(text: str) -> Fraction:
    """Strings repeat (``1Gi``, ``500m``): parsed once each."""
    if not text:
        raise QuantityError("quantities must not be empty")
    if len(text) > MAX_LENGTH:
        raise QuantityError(f"quantities must be at most {MAX_LENGTH} characters")
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise QuantityError(
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    value = Fraction(match["number"])
    if match["binary"]:
        return value * Fraction(1024) ** _BINARY[match["binary"]]
    if match["exp"]:
        exponent = int(match["exp"][1:])
        if abs(exponent) > 64:
            raise QuantityError("quantities exponent out of range")
        return value * Fraction(10) ** exponent
    return value * Fraction(10) ** _DECIMAL[match["decimal"] or ""]


def is_quantity(text: object) -> bool:
    try:
        parse(text)
    except QuantityError:
        return False
    return True
