"""Plain-data forms of the model's objects, as the memo's stages keep them (``marshal`` holds
only plain values): findings, resource identities and YAML documents, and back.

A form read back that does not have the expected shape raises ``ValueError``, ``TypeError``,
``KeyError`` or ``IndexError``: the stage treats the entry as damaged (a miss).
"""

from __future__ import annotations

from typing import Any

from servegate.model import Finding, Severity
from servegate.resource import ResourceRef
from servegate.yamlsafe import Document


def ref_data(ref: ResourceRef | None) -> list[Any] | None:
    return None if ref is None else [ref.api_version, ref.kind, ref.namespace, ref.name]


def ref(data: Any) -> ResourceRef:
    api_version, kind, namespace, name = data
    return ResourceRef(str(api_version), str(kind), namespace, str(name))


def finding_data(f: Finding) -> list[Any]:
    cap = None if f.at_most is None else f.at_most.value
    return [
        *(f.rule, f.severity.value, f.message, f.file, f.line, ref_data(f.resource), f.path),
        *(f.suppressed, f.unit, cap, f.unless),
    ]


def finding(data: Any) -> Finding:
    rule, severity, message, file, line, resource, path, suppressed, unit, cap, unless = data
    return Finding(
        str(rule),
        Severity(severity),
        str(message),
        str(file),
        int(line),
        None if resource is None else ref(resource),
        path,
        None if suppressed is None else str(suppressed),
        unit=str(unit),
        at_most=None if cap is None else Severity(cap),
        unless=None if unless is None else str(unless),
    )


def document_data(doc: Document) -> list[Any]:
    """(data, first line, node positions still marshalled): positions are decoded only when
    a line is asked for (``Document.positions``). Raises ValueError when marshal cannot hold
    the document."""
    return [doc.data, doc.line, doc.packed_positions()]


def document(data: Any) -> Document:
    value, line, packed = data
    if type(packed) is not bytes or type(line) is not int:
        raise TypeError("damaged document entry")
    return Document(value, line, packed=packed)
