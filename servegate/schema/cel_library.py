"""The Kubernetes CEL function libraries, for :mod:`servegate.schema.cel`.

The API server compiles CRD rules in the environment of kubernetes/apiserver
``pkg/cel/environment/base.go``: the CEL standard library, optional types, cross-type numeric
comparisons, cel-go's ``ext.Strings`` (version 2) and ``ext.Sets``, and the Kubernetes libraries of
``pkg/cel/library``. The CEL language itself (parser, macros, errors, the standard library and
optional types) is cel-expr-python, the CEL C++ implementation. This module adds, in Python,
what that does not bring, each with the upstream file it follows:

- cel-go ``ext/strings.go`` (v2): ``charAt indexOf lastIndexOf lowerAscii upperAscii replace
  split substring trim join strings.quote format``. cel-expr-python has these too, but its
  ``substring(start, end)`` refuses ``end == size()``, which cel-go allows, so they are
  implemented here after cel-go.
- cel-go ``ext/sets.go``: ``sets.contains sets.equivalent sets.intersects``.
- ``library/lists.go``: ``isSorted sum min max indexOf lastIndexOf`` on lists.
- ``library/regex.go``: ``find findAll``.
- ``library/urls.go``: ``url isURL getScheme getHost getHostname getPort getEscapedPath
  getQuery`` (Go's ``url.ParseRequestURI``).
- ``library/quantity.go``: ``quantity isQuantity sign isGreaterThan isLessThan compareTo add sub
  asInteger isInteger asApproximateFloat``.
- ``library/ip.go`` and ``library/cidr.go``: ``ip isIP ip.isCanonical family isUnspecified
  isLoopback isLinkLocalMulticast isLinkLocalUnicast isGlobalUnicast cidr isCIDR containsIP
  containsCIDR prefixLength masked`` and ``ip()`` of a CIDR.

Not provided (a rule that calls them is reported as not evaluated): ``library/format.go``
(its ``validate`` returns an optional, which a Python function cannot produce here),
``library/semverlib.go``, ``library/image.go``, ``library/authz.go`` (no authorizer in CRD
rules) and cel-go's two-variable comprehensions (1.32+), which are macros.

URL, quantity, IP and CIDR values are opaque types upstream; cel-expr-python cannot return
opaque values from Python, so they travel as one-entry maps keyed by a type tag starting with U+0001
that no YAML key can spell. Equality compares their canonical forms, as upstream.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from servegate import quantity as q

_TAG = "\x01k8s."
URL_T, QUANTITY_T, IP_T, CIDR_T = (_TAG + n for n in ("URL", "Quantity", "IP", "CIDR"))
_MAX_REGEX_INPUT = 100_000


class CELFunctionError(ValueError):
    """Raised inside a function: becomes a CEL error value (so ``||`` and ``&&`` absorb it)."""


def _typed(value: object, tag: str) -> Any:
    if isinstance(value, dict) and len(value) == 1 and tag in value:
        return value[tag]
    raise CELFunctionError("no such overload")


def _tag_of(value: object) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if isinstance(key, str) and key.startswith(_TAG):
            return key
    return None


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise CELFunctionError("no such overload")
    return value


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CELFunctionError("no such overload")
    return value


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise CELFunctionError("no such overload")
    return value


# ---- cel-go ext/strings.go (version 2) ----


def char_at(s: object, i: object) -> str:
    text, index = _str(s), _int(i)
    if index < 0 or index > len(text):
        raise CELFunctionError(f"index out of range: {index}")
    return text[index : index + 1]


def index_of(target: object, sub: object, offset: object = None) -> int:
    if isinstance(target, list):
        if offset is not None:
            raise CELFunctionError("no such overload")
        return next((n for n, item in enumerate(target) if _equal(item, sub)), -1)
    text, needle = _str(target), _str(sub)
    start = 0 if offset is None else _int(offset)
    if start < 0 or start > len(text):
        raise CELFunctionError(f"index out of range: {start}")
    return text.find(needle, start)


def last_index_of(target: object, sub: object, offset: object = None) -> int:
    if isinstance(target, list):
        if offset is not None:
            raise CELFunctionError("no such overload")
        found = [n for n, item in enumerate(target) if _equal(item, sub)]
        return found[-1] if found else -1
    text, needle = _str(target), _str(sub)
    end = len(text) if offset is None else _int(offset)
    if end < 0 or end > len(text):
        raise CELFunctionError(f"index out of range: {end}")
    return text.rfind(needle, 0, end + len(needle))


def lower_ascii(s: object) -> str:
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in _str(s))


def upper_ascii(s: object) -> str:
    return "".join(c.upper() if "a" <= c <= "z" else c for c in _str(s))


def replace(s: object, old: object, new: object, n: object = -1) -> str:
    return _str(s).replace(_str(old), _str(new), _int(n))


def split(s: object, sep: object, n: object = -1) -> list[str]:
    text, separator, limit = _str(s), _str(sep), _int(n)
    if limit == 0:
        return []
    if separator == "":
        parts = list(text)
        if limit > 0 and len(parts) > limit:
            parts = [*parts[: limit - 1], "".join(parts[limit - 1 :])]
        return parts
    return text.split(separator, limit - 1 if limit > 0 else -1)


def substring(s: object, start: object, end: object = None) -> str:
    text, begin = _str(s), _int(start)
    stop = len(text) if end is None else _int(end)
    if begin > stop:
        raise CELFunctionError(f"invalid substring range. start: {begin}, end: {stop}")
    for index in (begin, stop):
        if index < 0 or index > len(text):
            raise CELFunctionError(f"index out of range: {index}")
    return text[begin:stop]


def trim(s: object) -> str:
    return _str(s).strip()


def join(items: object, sep: object = "") -> str:
    parts = _list(items)
    if not all(isinstance(p, str) for p in parts):
        raise CELFunctionError("join: list elements must be strings")
    return _str(sep).join(parts)


def quote(s: object) -> str:
    text = _str(s)
    escapes = {"\\": "\\\\", '"': '\\"', "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n"}
    escapes |= {"\r": "\\r", "\t": "\\t", "\v": "\\v"}
    return '"' + "".join(escapes.get(c, c) for c in text) + '"'


_VERB = re.compile(r"%(?:\.(\d+))?([sdfeEbxXo%])")


def format_(template: object, args: object) -> str:
    text, values = _str(template), _list(args)
    used = 0

    def one(match: re.Match[str]) -> str:
        nonlocal used
        precision, verb = match.group(1), match.group(2)
        if verb == "%":
            return "%"
        if used >= len(values):
            raise CELFunctionError(f"index {used} out of range")
        value = values[used]
        used += 1
        if verb == "s":
            return _to_string(value)
        if verb == "d":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise CELFunctionError(
                    "error during formatting: integer clause can only be used on integers"
                )
            if isinstance(value, float) and not value.is_integer():
                raise CELFunctionError(
                    "error during formatting: integer clause can only be used on integers"
                )
            return str(int(value))
        if verb in "fe" or verb == "E":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise CELFunctionError(f"error during formatting: {verb} clause needs a number")
            digits = 6 if precision is None else int(precision)
            return f"{float(value):.{digits}{verb}}"
        if isinstance(value, str) and verb in "xX":
            out = value.encode("utf-8").hex()
            return out.upper() if verb == "X" else out
        if isinstance(value, bytes | bytearray) and verb in "xX":
            out = bytes(value).hex()
            return out.upper() if verb == "X" else out
        if isinstance(value, bool) or not isinstance(value, int):
            raise CELFunctionError(f"error during formatting: {verb} clause needs an integer")
        return format(value, {"b": "b", "x": "x", "X": "X", "o": "o"}[verb])

    return _VERB.sub(one, text)


def _to_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, list):
        return "[" + ", ".join(_to_string(v) for v in value) + "]"
    if isinstance(value, dict):
        tag = _tag_of(value)
        if tag is not None:
            return str(value[tag])
        return "{" + ", ".join(f"{_to_string(k)}: {_to_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


# ---- cel-go ext/sets.go ----


def _equal(a: object, b: object) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def sets_contains(a: object, b: object) -> bool:
    first = _list(a)
    return all(any(_equal(x, y) for x in first) for y in _list(b))


def sets_equivalent(a: object, b: object) -> bool:
    return sets_contains(a, b) and sets_contains(b, a)


def sets_intersects(a: object, b: object) -> bool:
    first = _list(a)
    return any(any(_equal(x, y) for x in first) for y in _list(b))


# ---- library/lists.go ----


def _comparable(items: list[Any]) -> list[Any]:
    if not items:
        return items
    if all(isinstance(i, int | float) and not isinstance(i, bool) for i in items):
        return items
    kinds = {type(i) for i in items}
    if len(kinds) != 1 or not kinds <= {str, bytes, bytearray, bool}:
        raise CELFunctionError("no such overload")
    return items


def is_sorted(items: object) -> bool:
    values = _comparable(_list(items))
    return all(values[i] <= values[i + 1] for i in range(len(values) - 1))


def sum_(items: object) -> Any:
    values = _list(items)
    if not all(isinstance(i, int | float) and not isinstance(i, bool) for i in values):
        raise CELFunctionError("no such overload")
    return sum(values)


def min_(items: object) -> Any:
    values = _comparable(_list(items))
    if not values:
        raise CELFunctionError("min(list) argument must not be empty")
    return min(values)


def max_(items: object) -> Any:
    values = _comparable(_list(items))
    if not values:
        raise CELFunctionError("max(list) argument must not be empty")
    return max(values)


# ---- library/regex.go ----


def _regex(pattern: str) -> Any:
    """``pattern`` compiled by RE2, the engine (and syntax) of Go's regexp, which the API server
    uses (``servegate.goregexp``): matching takes linear time, so no rule can stall a check
    (Python's backtracking ``re`` took minutes on ``(a+)+$`` against 32 characters)."""
    from servegate.goregexp import compiled

    found = compiled(pattern)
    if isinstance(found, str):
        raise CELFunctionError(f"invalid regex: {found}")
    return found


def _regex_input(s: object) -> str:
    text = _str(s)
    if len(text) > _MAX_REGEX_INPUT:
        raise CELFunctionError("string too long for a regular expression")
    return text


def find(s: object, pattern: object) -> str:
    found = _regex(_str(pattern)).search(_regex_input(s))
    return found.group(0) if found else ""


def find_all(s: object, pattern: object, limit: object = -1) -> list[str]:
    """Go's ``FindAllString`` (``regexp.go`` ``allMatches``): successive matches, where an empty
    match right where the previous one ended is skipped."""
    n = _int(limit)
    regex, text = _regex(_str(pattern)), _regex_input(s)
    out: list[str] = []
    pos, previous_end = 0, -1
    while (n < 0 or len(out) < n) and pos <= len(text):
        found = regex.search(text, pos)
        if found is None:
            break
        start, end = found.span()
        accept = True
        if end == pos:  # an empty match: move on one character
            accept = start != previous_end
            pos += 1
        else:
            pos = end
        previous_end = end
        if accept:
            out.append(found.group(0))
    return out


# ---- library/urls.go (Go's url.ParseRequestURI) ----

_HOST_OK = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:\[\]<>\"%]*")
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _parse_url(raw: str) -> dict[str, Any]:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        raise CELFunctionError("URL parse error: net/url: invalid control character in URL")
    if raw == "":
        raise CELFunctionError("URL parse error: empty url")
    parts: dict[str, Any] = {"scheme": "", "host": "", "path": "", "query": "", "opaque": ""}
    if raw == "*":
        parts["path"] = "*"
        return parts
    scheme, rest = "", raw
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                break
            continue
        if c == ":":
            if i == 0:
                raise CELFunctionError("URL parse error: missing protocol scheme")
            scheme, rest = raw[:i].lower(), raw[i + 1 :]
        break
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest, _, parts["query"] = rest.partition("?")
    parts["scheme"] = scheme
    if not rest.startswith("/"):
        if scheme:
            parts["opaque"] = rest
            return parts
        raise CELFunctionError("URL parse error: invalid URI for request")
    if scheme and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        host = authority.rpartition("@")[2]
        if host.startswith("["):
            end = host.rfind("]")
            if end < 0:
                raise CELFunctionError("URL parse error: missing ']' in host")
            port = host[end + 1 :]
        else:
            colon = host.rfind(":")
            port = host[colon:] if colon >= 0 else ""
        if port and not ((port.startswith(":") and port[1:].isdigit()) or port == ":"):
            raise CELFunctionError(f"URL parse error: invalid port {port!r} after host")
        if not _HOST_OK.fullmatch(host) or _ESCAPE.search(host):
            raise CELFunctionError("URL parse error: invalid character in host name")
        parts["host"] = host
    if _ESCAPE.search(rest):
        raise CELFunctionError("URL parse error: invalid URL escape")
    parts["path"] = rest
    return parts


def url(s: object) -> dict[str, str]:
    text = _str(s)
    _parse_url(text)
    return {URL_T: text}


def is_url(s: object) -> bool:
    try:
        _parse_url(_str(s))
    except CELFunctionError:
        return False
    return True


def _url_part(u: object) -> dict[str, Any]:
    return _parse_url(_typed(u, URL_T))


def get_scheme(u: object) -> str:
    return str(_url_part(u)["scheme"])


def get_host(u: object) -> str:
    return str(_url_part(u)["host"])


def get_hostname(u: object) -> str:
    host = str(_url_part(u)["host"])
    if host.startswith("["):
        return host[1 : host.find("]")]
    return host.rpartition(":")[0] if ":" in host else host


def get_port(u: object) -> str:
    host = str(_url_part(u)["host"])
    tail = host[host.rfind("]") + 1 :] if host.startswith("[") else host
    return tail.rpartition(":")[2] if ":" in tail else ""


def get_escaped_path(u: object) -> str:
    return str(_url_part(u)["path"])


def get_query(u: object) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    query = str(_url_part(u)["query"])
    return {k: list(v) for k, v in parse_qs(query, keep_blank_values=True).items()}


# ---- library/quantity.go ----


def _quantity_value(value: object) -> Fraction:
    text = _typed(value, QUANTITY_T)
    num, _, den = str(text).partition("/")
    return Fraction(int(num), int(den or 1))


def _make_quantity(value: Fraction) -> dict[str, str]:
    return {QUANTITY_T: f"{value.numerator}/{value.denominator}"}


def quantity(s: object) -> dict[str, str]:
    try:
        return _make_quantity(q.parse(_str(s)))
    except q.QuantityError as err:
        raise CELFunctionError(str(err)) from None


def is_quantity(s: object) -> bool:
    return isinstance(s, str) and q.is_quantity(s)


def sign(value: object) -> int:
    v = _quantity_value(value)
    return (v > 0) - (v < 0)


def compare_to(a: object, b: object) -> int:
    x, y = _quantity_value(a), _quantity_value(b)
    return (x > y) - (x < y)


def is_greater_than(a: object, b: object) -> bool:
    return compare_to(a, b) > 0


def is_less_than(a: object, b: object) -> bool:
    return compare_to(a, b) < 0


def _addend(value: object) -> Fraction:
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    return _quantity_value(value)


def add(a: object, b: object) -> dict[str, str]:
    return _make_quantity(_quantity_value(a) + _addend(b))


def sub(a: object, b: object) -> dict[str, str]:
    return _make_quantity(_quantity_value(a) - _addend(b))


def is_integer(value: object) -> bool:
    v = _quantity_value(value)
    return v.denominator == 1 and -(2**63) <= v.numerator < 2**63


def as_integer(value: object) -> int:
    if not is_integer(value):
        raise CELFunctionError("cannot convert value to integer")
    return _quantity_value(value).numerator


def as_approximate_float(value: object) -> float:
    return float(_quantity_value(value))


# ---- library/ip.go and library/cidr.go ----

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_ip(text: str) -> Address:
    if "%" in text:
        raise CELFunctionError("IP address with zone value is not allowed")
    try:
        addr = ipaddress.ip_address(text)
    except ValueError as err:
        raise CELFunctionError(
            f"IP Address {text!r} parse error during conversion from string: {err}"
        ) from None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        raise CELFunctionError("IPv4-mapped IPv6 address is not allowed")
    return addr


def ip(value: object) -> dict[str, str]:
    if _tag_of(value) == CIDR_T:  # cidr.ip()
        return {IP_T: _typed(value, CIDR_T).partition("/")[0]}
    return {IP_T: str(_parse_ip(_str(value)))}


def is_ip(s: object) -> bool:
    try:
        _parse_ip(_str(s))
    except CELFunctionError:
        return False
    return True


def ip_is_canonical(s: object) -> bool:
    text = _str(s)
    return str(_parse_ip(text)) == text


def _ip_value(value: object) -> Address:
    return ipaddress.ip_address(_typed(value, IP_T))


def family(value: object) -> int:
    return _ip_value(value).version


def is_unspecified(value: object) -> bool:
    return _ip_value(value).is_unspecified


def is_loopback(value: object) -> bool:
    return _ip_value(value).is_loopback


def is_link_local_multicast(value: object) -> bool:
    addr = _ip_value(value)
    if addr.version == 4:
        return addr in ipaddress.ip_network("224.0.0.0/24")
    return addr in ipaddress.ip_network("ff02::/16")


def is_link_local_unicast(value: object) -> bool:
    addr = _ip_value(value)
    if addr.version == 4:
        return addr in ipaddress.ip_network("169.254.0.0/16")
    return addr in ipaddress.ip_network("fe80::/10")


def is_global_unicast(value: object) -> bool:
    addr = _ip_value(value)  # Go's netip.Addr.IsGlobalUnicast: private ranges count
    if addr.version == 4 and str(addr) == "255.255.255.255":
        return False
    return not (
        addr.is_unspecified or addr.is_loopback or addr.is_multicast or is_link_local_unicast(value)
    )


def _parse_cidr(text: str) -> tuple[Address, int]:
    if "%" in text:
        raise CELFunctionError("CIDR with zone value is not allowed")
    address, slash, bits = text.partition("/")
    if not slash or not bits.isdigit() or (len(bits) > 1 and bits[0] == "0"):
        raise CELFunctionError(
            f"network address parse error during conversion from string: {text!r}"
        )
    addr = _parse_ip(address)
    length = int(bits)
    if length > addr.max_prefixlen:
        raise CELFunctionError(
            f"network address parse error during conversion from string: {text!r}"
        )
    return addr, length


def cidr(s: object) -> dict[str, str]:
    addr, length = _parse_cidr(_str(s))
    return {CIDR_T: f"{addr}/{length}"}


def is_cidr(s: object) -> bool:
    try:
        _parse_cidr(_str(s))
    except CELFunctionError:
        return False
    return True


def _network(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(_typed(value, CIDR_T), strict=False)


def contains_ip(c: object, other: object) -> bool:
    addr = _parse_ip(other) if isinstance(other, str) else _ip_value(other)
    network = _network(c)
    return addr.version == network.version and addr in network


def contains_cidr(c: object, other: object) -> bool:
    text = other if isinstance(other, str) else _typed(other, CIDR_T)
    addr, length = _parse_cidr(str(text))
    network = _network(c)
    return addr.version == network.version and length >= network.prefixlen and addr in network


def prefix_length(c: object) -> int:
    return _network(c).prefixlen


def masked(c: object) -> dict[str, str]:
    return {CIDR_T: str(_network(c))}


# ---- the declarations ----

Impl = Callable[..., Any]
# (name, arities (counting the receiver), member?, implementation)
FUNCTIONS: Sequence[tuple[str, tuple[int, ...], bool, Impl]] = (
    ("charAt", (2,), True, char_at),
    ("indexOf", (2, 3), True, index_of),
    ("lastIndexOf", (2, 3), True, last_index_of),
    ("lowerAscii", (1,), True, lower_ascii),
    ("upperAscii", (1,), True, upper_ascii),
    ("replace", (3, 4), True, replace),
    ("split", (2, 3), True, split),
    ("substring", (2, 3), True, substring),
    ("trim", (1,), True, trim),
    ("join", (1, 2), True, join),
    ("strings.quote", (1,), False, quote),
    ("format", (2,), True, format_),
    ("sets.contains", (2,), False, sets_contains),
    ("sets.equivalent", (2,), False, sets_equivalent),
    ("sets.intersects", (2,), False, sets_intersects),
    ("isSorted", (1,), True, is_sorted),
    ("sum", (1,), True, sum_),
    ("min", (1,), True, min_),
    ("max", (1,), True, max_),
    ("find", (2,), True, find),
    ("findAll", (2, 3), True, find_all),
    ("url", (1,), False, url),
    ("isURL", (1,), False, is_url),
    ("getScheme", (1,), True, get_scheme),
    ("getHost", (1,), True, get_host),
    ("getHostname", (1,), True, get_hostname),
    ("getPort", (1,), True, get_port),
    ("getEscapedPath", (1,), True, get_escaped_path),
    ("getQuery", (1,), True, get_query),
    ("quantity", (1,), False, quantity),
    ("isQuantity", (1,), False, is_quantity),
    ("sign", (1,), True, sign),
    ("isGreaterThan", (2,), True, is_greater_than),
    ("isLessThan", (2,), True, is_less_than),
    ("compareTo", (2,), True, compare_to),
    ("add", (2,), True, add),
    ("sub", (2,), True, sub),
    ("isInteger", (1,), True, is_integer),
    ("asInteger", (1,), True, as_integer),
    ("asApproximateFloat", (1,), True, as_approximate_float),
    ("ip", (1,), False, ip),
    ("ip", (1,), True, ip),
    ("isIP", (1,), False, is_ip),
    ("ip.isCanonical", (1,), False, ip_is_canonical),
    ("family", (1,), True, family),
    ("isUnspecified", (1,), True, is_unspecified),
    ("isLoopback", (1,), True, is_loopback),
    ("isLinkLocalMulticast", (1,), True, is_link_local_multicast),
    ("isLinkLocalUnicast", (1,), True, is_link_local_unicast),
    ("isGlobalUnicast", (1,), True, is_global_unicast),
    ("cidr", (1,), False, cidr),
    ("isCIDR", (1,), False, is_cidr),
    ("containsIP", (2,), True, contains_ip),
    ("containsCIDR", (2,), True, contains_cidr),
    ("prefixLength", (1,), True, prefix_length),
    ("masked", (1,), True, masked),
)


def _guarded(fn: Impl) -> Impl:
    """Python errors become CEL errors with a one-line message, never a crash."""

    def call(*args: Any) -> Any:
        args = tuple(bytes(a) if isinstance(a, bytearray) else a for a in args)
        try:
            return fn(*args)
        except CELFunctionError:
            raise
        except (ValueError, TypeError, ArithmeticError, KeyError, IndexError) as err:
            raise CELFunctionError(str(err) or type(err).__name__) from None

    return call


def extension(cel: Any) -> Any:
    """The cel-expr-python extension declaring every function above (arguments typed ``dyn``,
    checked at run time as cel-go's overload resolution would)."""
    dyn = cel.Type.DYN
    grouped: dict[str, list[Any]] = {}
    for name, arities, member, fn in FUNCTIONS:
        for arity in arities:
            overload = cel.Overload(
                f"k8s_{name}_{'member' if member else 'global'}_{arity}",
                dyn,
                [dyn] * arity,
                is_member=member,
                impl=_guarded(fn),
            )
            grouped.setdefault(name, []).append(overload)
    decls = [cel.FunctionDecl(name, overloads) for name, overloads in grouped.items()]
    return cel.CelExtension("servegate_kubernetes", decls)


def decode_bytes(text: str) -> bytes:
    """``format: byte`` strings, as the API server decodes them (standard base64)."""
    return base64.b64decode(text, validate=True)
