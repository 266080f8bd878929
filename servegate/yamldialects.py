"""How the two YAML decoders of the Kubernetes toolchain read a scalar.

A file applied as it is (kubectl, an Argo CD directory app, a plugin's stdout, a kustomization
file) is decoded by sigs.k8s.io/yaml: go-yaml v2 turns it into Go values, which are then written
as JSON. A kustomize resource is read by kustomize's kyaml, a go-yaml v3 fork. The two resolve
plain scalars with the same code (``resolve.go``) except for YAML 1.1's boolean words: v2 reads
``y``, ``n``, ``yes``, ``no``, ``on``, ``off`` (in their listed spellings) as booleans, v3 as
strings. Both read ``0o10``, ``010``, ``0x1F``, ``0b11`` and ``1_000`` as integers (Go's
``strconv.ParseInt`` with base 0, after removing every ``_``), and then ``0b`` (both) and
``0o`` (v3 only) with a sign after the prefix (``0b-1`` is -1), ``1e3`` and ``08`` as floats,
``1:20`` as a string (no sexagesimal numbers), and timestamps as strings. PyYAML agrees with
neither, so servegate resolves scalars itself, here.

Sources: go-yaml v2 ``resolve.go`` (``resolveMapList``, ``resolve``, ``parseTimestamp``) and
``decode.go`` (``d.scalar``: timestamps decode to their text, ``!!binary`` to its bytes) as
vendored in sigs.k8s.io/yaml ``goyaml.v2/``; go-yaml v3 ``resolve.go`` as in ``goyaml.v3/``;
sigs.k8s.io/yaml ``yaml.go`` (``convertToJSONableObject``: map keys become strings, a float key
formatted with ``strconv.FormatFloat(f, 'g', -1, 32)``); k8s.io/apimachinery ``util/json``
(a JSON number becomes an int64 when it parses as one, else a float64).
"""

from __future__ import annotations

import math
import re
import struct
from decimal import Decimal
from typing import Any, Final

KUBERNETES: Final = "kubernetes"
"""sigs.k8s.io/yaml (go-yaml v2, YAML 1.1 booleans): kubectl, Argo CD, kustomization files."""
KUSTOMIZE: Final = "kustomize"
"""kustomize's kyaml (go-yaml v3, YAML 1.2 booleans): resources kustomize reads."""
DIALECTS: Final = (KUBERNETES, KUSTOMIZE)

STR: Final = "tag:yaml.org,2002:str"
INT: Final = "tag:yaml.org,2002:int"
FLOAT: Final = "tag:yaml.org,2002:float"
BOOL: Final = "tag:yaml.org,2002:bool"
NULL: Final = "tag:yaml.org,2002:null"
TIMESTAMP: Final = "tag:yaml.org,2002:timestamp"
MERGE: Final = "tag:yaml.org,2002:merge"
BINARY: Final = "tag:yaml.org,2002:binary"

_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

_BOTH_WORDS: dict[str, tuple[str, Any]] = {
    **dict.fromkeys(("true", "True", "TRUE"), (BOOL, True)),
    **dict.fromkeys(("false", "False", "FALSE"), (BOOL, False)),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), (NULL, None)),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), (FLOAT, math.nan)),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), (FLOAT, math.inf)),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), (FLOAT, -math.inf)),
}
_WORDS: dict[str, dict[str, tuple[str, Any]]] = {
    KUBERNETES: {
        **_BOTH_WORDS,
        **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON"), (BOOL, True)),
        **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF"), (BOOL, False)),
    },
    KUSTOMIZE: _BOTH_WORDS,
}
# resolve.go's resolveTable: the first character says what a plain scalar may be
_HINTS = {**dict.fromkeys("+-", "S"), **dict.fromkeys("0123456789", "D")}
_HINTS.update({**dict.fromkeys("yYnNtTfFoO~", "M"), ".": "."})

_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# what Go's ParseFloat takes after a '.': underscores only between digits (``underscoreOK``)
_DOT_FLOAT = re.compile(r"\.[0-9](_?[0-9])*([eE][-+]?[0-9](_?[0-9])*)?")
_BASES = {"x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2}
_DIGITS = {2: frozenset("01"), 8: frozenset("01234567"), 10: frozenset("0123456789")}
_DIGITS[16] = frozenset("0123456789abcdefABCDEF")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:(?:([Tt])|( ))([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})([.,][0-9]+)?"
    r"(Z|[-+][0-9]{2}:[0-9]{2})?)?"
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def resolve(value: str, dialect: str) -> tuple[str, Any]:
    """(tag, value) of a plain scalar as go-yaml resolves it: ``!!int`` values are Python ints
    (int64 or uint64 range), ``!!float`` floats, a timestamp its text (go-yaml v2) or, for
    kustomize, the RFC 3339 text of the ``time.Time`` go-yaml v3 makes of it; anything else
    is a string."""
    words = _WORDS[dialect]
    if not value:
        return NULL, None
    hint = _HINTS.get(value[0])
    if hint is None:
        return STR, value
    found = words.get(value)
    if found is not None:
        return found
    if hint == "M":
        return STR, value
    if hint == ".":
        number = _go_float(value) if _DOT_FLOAT.fullmatch(value) else None
        return (FLOAT, number) if number is not None else (STR, value)
    if is_timestamp(value):
        return TIMESTAMP, value if dialect == KUBERNETES else rfc3339(value)
    plain = value.replace("_", "")
    integer = go_parse_int(plain)
    if integer is not None:
        return INT, integer
    if _YAML_FLOAT.fullmatch(plain):
        number = _go_float(plain)
        if number is not None:
            return FLOAT, number
    integer = _prefixed_int(plain, dialect)
    if integer is not None:
        return INT, integer
    return STR, value


def _prefixed_int(plain: str, dialect: str) -> int | None:
    """resolve.go's last try: ``0b`` (both), ``0o`` (go-yaml v3 only) and their ``-`` forms
    read with ``strconv.ParseInt(plain[2:], base, 64)``, which takes a sign of its own, so
    ``0b+1`` is 1, ``0b-1`` is -1 and, for kustomize, ``0o-7`` is -7 (``-0b-1`` is a string)."""
    for prefix, base in (("0b", 2), ("0o", 8)):
        if base == 8 and dialect != KUSTOMIZE:
            break
        if plain.startswith(prefix):
            digits = plain[2:]
            found = _parse_int_base(digits, base)
            if found is None and digits[:1] not in ("+", "-"):
                found = _parse_uint_base(digits, base)
            return found
        if plain.startswith("-" + prefix):
            return _parse_int_base("-" + plain[3:], base)
    return None


def _parse_int_base(text: str, base: int) -> int | None:
    """``strconv.ParseInt(text, base, 64)`` for base 2 or 8: one optional sign, then digits."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not _DIGITS[base].issuperset(body):
        return None
    number = -int(body, base) if text[0] == "-" else int(body, base)
    return number if _INT64_MIN <= number <= _INT64_MAX else None


def _parse_uint_base(text: str, base: int) -> int | None:
    """``strconv.ParseUint(text, base, 64)`` for base 2 or 8: digits only, no sign."""
    if not text or not _DIGITS[base].issuperset(text):
        return None
    number = int(text, base)
    return number if number <= _UINT64_MAX else None


def go_parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, else ``strconv.ParseUint(text, 0, 64)``: None when
    neither takes it (bad digits, out of range)."""
    body = text
    signed = body[:1] in ("+", "-")
    if signed:
        body = body[1:]
    if len(body) > 1 and body[0] == "0" and body[1] in _BASES:
        base, digits = _BASES[body[1]], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, digits = 8, body[1:]
    else:
        base, digits = 10, body
    if not digits or not _DIGITS[base].issuperset(digits):
        return None
    number = int(digits, base)
    if text[0] == "-":
        number = -number
    if _INT64_MIN <= number <= _INT64_MAX or (not signed and 0 <= number <= _UINT64_MAX):
        return number
    return None


def _go_float(text: str) -> float | None:
    """``strconv.ParseFloat(text, 64)`` for a decimal literal: None when out of range."""
    number = float(text)
    return None if math.isinf(number) else number


def is_timestamp(value: str) -> bool:
    """go-yaml's ``parseTimestamp``: one of its four ``time.Parse`` layouts, values in range."""
    if len(value) < 5 or value[4] != "-":
        return False
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return False
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS[month - 1]:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if month == 2 and day == 29 and not leap:
        return False
    if match[6] is None:
        return True
    if match[5] is not None and match[10] is not None:
        return False  # the space-separated layout has no zone
    if match[4] is not None and match[10] is None:
        return False  # the T layouts need one
    hour, minute, second = int(match[6]), int(match[7]), int(match[8])
    if hour > 23 or minute > 59 or second > 59:
        return False
    zone = match[10]
    return zone is None or zone == "Z" or (int(zone[1:3]) <= 24 and int(zone[4:6]) < 60)


def rfc3339(value: str) -> str:
    """A timestamp (``is_timestamp``) as encoding/json writes the ``time.Time`` go-yaml v3
    decodes it to (``time.RFC3339Nano``): kustomize's output holds this, not what was written."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return value
    date = f"{int(match[1]):04d}-{int(match[2]):02d}-{int(match[3]):02d}"
    if match[6] is None:
        return date + "T00:00:00Z"
    fraction = (match[9] or ".")[1:10].rstrip("0")
    zone = match[10] or "Z"
    if zone[1:] == "00:00":
        zone = "Z"
    clock = f"{int(match[6]):02d}:{int(match[7]):02d}:{int(match[8]):02d}"
    return f"{date}T{clock}{'.' + fraction if fraction else ''}{zone}"


def json_number(value: int | float) -> int | float:
    """A number as the API server holds it after the JSON round trip: a JSON number that
    parses as an int64 is one (so ``8.0`` is ``8``), anything else a float64."""
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _INT64_MAX else float(value)
    if value == 0:
        return 0
    if 1e-6 <= abs(value) < 1e21 and value.is_integer():
        # encoding/json writes such a float with 'f' and its shortest digits
        as_int = int(Decimal(repr(value)))
        if _INT64_MIN <= as_int <= _INT64_MAX:
            return as_int
    return value


def float_key(value: float) -> str:
    """A float map key as sigs.k8s.io/yaml writes it: ``strconv.FormatFloat(f, 'g', -1, 32)``,
    with ``.inf``, ``-.inf`` and ``.nan`` for the special values."""
    if math.isnan(value):
        return ".nan"
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        single = math.copysign(math.inf, value)
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    if single == 0:
        return "-0" if math.copysign(1, single) < 0 else "0"
    for precision in range(1, 10):  # the shortest digits that read back as the same float32
        text = f"{single:.{precision - 1}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    mantissa, exponent = text.split("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    exp = int(exponent)
    if exp < -4 or exp >= 6:  # %e: d.ddde±dd
        head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{head}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    point = exp + 1
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"
