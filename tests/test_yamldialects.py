"""servegate.yamldialects resolves plain scalars as go-yaml v2 (Kubernetes) and v3 (kustomize) do.
The oracle tests against kubectl and kustomize are in tests/test_yamlsafe.py; these pin the
rules themselves, with the values the oracles gave."""

from __future__ import annotations

import math

import pytest

from servegate.yamldialects import (
    BOOL,
    FLOAT,
    INT,
    KUBERNETES,
    KUSTOMIZE,
    NULL,
    STR,
    TIMESTAMP,
    float_key,
    go_parse_int,
    is_timestamp,
    json_number,
    resolve,
    rfc3339,
)


@pytest.mark.parametrize(
    ("text", "kubernetes", "kustomize"),
    [
        ("y", (BOOL, True), (STR, "y")),
        ("N", (BOOL, False), (STR, "N")),
        ("Yes", (BOOL, True), (STR, "Yes")),
        ("yES", (STR, "yES"), (STR, "yES")),
        ("on", (BOOL, True), (STR, "on")),
        ("OFF", (BOOL, False), (STR, "OFF")),
        ("True", (BOOL, True), (BOOL, True)),
        ("tRUE", (STR, "tRUE"), (STR, "tRUE")),
        ("~", (NULL, None), (NULL, None)),
        ("", (NULL, None), (NULL, None)),
        ("0o10", (INT, 8), (INT, 8)),
        ("010", (INT, 8), (INT, 8)),
        ("08", (FLOAT, 8.0), (FLOAT, 8.0)),
        ("0x_1F", (INT, 31), (INT, 31)),
        ("0b101", (INT, 5), (INT, 5)),
        ("1_000", (INT, 1000), (INT, 1000)),
        ("1e3", (FLOAT, 1000.0), (FLOAT, 1000.0)),
        (".5_0", (FLOAT, 0.5), (FLOAT, 0.5)),
        ("1e999", (STR, "1e999"), (STR, "1e999")),
        ("1:20", (STR, "1:20"), (STR, "1:20")),
        ("18446744073709551615", (INT, 2**64 - 1), (INT, 2**64 - 1)),
        ("+18446744073709551615", (FLOAT, 2.0**64), (FLOAT, 2.0**64)),
        ("0x1FFFFFFFFFFFFFFFFF", (STR, "0x1FFFFFFFFFFFFFFFFF"), (STR, "0x1FFFFFFFFFFFFFFFFF")),
        ("2024-01-01", (TIMESTAMP, "2024-01-01"), (TIMESTAMP, "2024-01-01T00:00:00Z")),
        ("<<", (STR, "<<"), (STR, "<<")),
        # resolve.go's last try: ParseInt(plain[2:], 2 or 8, 64) takes a sign after the prefix
        ("0b+1", (INT, 1), (INT, 1)),
        ("0b-1_0", (INT, -2), (INT, -2)),
        ("-0b-1", (STR, "-0b-1"), (STR, "-0b-1")),
        ("0o-7", (STR, "0o-7"), (INT, -7)),
        ("0o+7", (STR, "0o+7"), (INT, 7)),
        ("-0o+7", (STR, "-0o+7"), (STR, "-0o+7")),
        ("0B+1", (STR, "0B+1"), (STR, "0B+1")),
        ("0x+1", (STR, "0x+1"), (STR, "0x+1")),
    ],
)
def test_resolve(text: str, kubernetes: tuple[str, object], kustomize: tuple[str, object]) -> None:
    assert resolve(text, KUBERNETES) == kubernetes
    assert resolve(text, KUSTOMIZE) == kustomize


def test_special_floats() -> None:
    assert resolve("-.Inf", KUBERNETES) == (FLOAT, -math.inf)
    tag, value = resolve(".NaN", KUSTOMIZE)
    assert tag == FLOAT and isinstance(value, float) and math.isnan(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("-0", 0),
        ("0X1f", 31),
        ("-0O7", -7),
        ("+0b1", 1),
        ("9223372036854775807", 2**63 - 1),
    ],
)
def test_go_parse_int(text: str, value: int) -> None:
    assert go_parse_int(text) == value


@pytest.mark.parametrize("text", ["", "+", "0x", "0b2", "09", "-9223372036854775809", "1.0"])
def test_go_parse_int_refuses(text: str) -> None:
    assert go_parse_int(text) is None


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2024-1-2", True),
        ("2024-02-29", True),
        ("2023-02-29", False),
        ("2024-13-01", False),
        ("2024-01-01T10:00:00Z", True),
        ("2024-01-01T10:00:00", False),  # the T layouts need a zone
        ("2024-01-01 10:00:00", True),
        ("2024-01-01 10:00:00Z", False),  # the space layout has none
        ("2024-01-01t1:2:3.5+01:00", True),
        ("12345-01-01", False),
    ],
)
def test_is_timestamp(text: str, ok: bool) -> None:
    assert is_timestamp(text) is ok


def test_rfc3339_is_what_kustomize_writes() -> None:
    assert rfc3339("2024-1-2") == "2024-01-02T00:00:00Z"
    assert rfc3339("2024-01-01t1:2:3.50+01:00") == "2024-01-01T01:02:03.5+01:00"
    assert rfc3339("2024-1-2T3:4:5,25+00:00") == "2024-01-02T03:04:05.25Z"


@pytest.mark.parametrize(
    ("value", "held"),
    [(8.0, 8), (-0.0, 0), (1e20, 1e20), (2**63, 2.0**63), (0.5, 0.5), (7, 7)],
)
def test_json_number(value: float, held: float) -> None:
    assert json_number(value) == held
    assert type(json_number(value)) is type(held)


@pytest.mark.parametrize(
    ("value", "key"),
    [(1.5, "1.5"), (1000.0, "1000"), (0.1, "0.1"), (1e-7, "1e-07"), (1e20, "1e+20")],
)
def test_float_key(value: float, key: str) -> None:
    assert float_key(value) == key
    assert float_key(math.inf) == ".inf" and float_key(-math.inf) == "-.inf"
