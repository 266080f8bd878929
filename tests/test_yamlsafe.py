"""servegate.yamlsafe decodes as the consumer decodes: kubectl (``kubernetes_decode``) for a file
applied as it is, the real kustomize for a kustomize resource; and its bounds hold per file and
per run."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from oracle import kubernetes_decode, kustomize, same

from servegate.yamlsafe import (
    KUBERNETES,
    KUSTOMIZE,
    MAX_ALIAS_NODES,
    MAX_NODES,
    RUN_ALIAS_NODES,
    Budget,
    LoadResult,
    load_bytes,
    load_plain,
    load_text,
    node_estimate,
)


def words(text: str) -> list[str]:
    return text.split()


#: Plain scalars whose type differs between YAML 1.1, YAML 1.2, PyYAML and go-yaml.
SCALARS = words("""
y Y yes Yes YES yES on On ON oN n N no No NO nO off Off OFF oFf true True TRUE tRUE false False
FALSE null Null NULL nULL ~ 0o10 0O10 -0o7 +0o7 0o8 0x1F 0X1f 0x_1F 0xG 0b101 0B11 -0b11 +0b1
0b2 010 08 09 0 -0 +0 00 007 1_000 1__0 _1 1_ 1e3 1E3 1e+3 1e-3 1.5e-3 .5 -.5 +.5 . .e3 1.
1.5 -1.5 1_0.5 .5_0 1e999 -1e999 99999999999999999999 18446744073709551615 18446744073709551616
9223372036854775807 9223372036854775808 -9223372036854775808 -9223372036854775809
0x1FFFFFFFFFFFFFFFFF 0xFFFFFFFFFFFFFFFF 1:20 1:20:30 -1:20 190:20:30 2024-01-01 2024-1-2
2024-13-01 2024-02-30 2023-02-29 2024-02-29 2024-01-01T10:00:00Z 2024-01-01t1:2:3.5+01:00
2024-01-01T10:00:00 2024-1-2T3:4:5,25Z 12345-01-01 2024-01-01x + = < > <<x .inf? Infinity
nan NaN +inf 0.1.2 1,000 $1 1e 1e+ 0x 0o 0b -- ++1 +-1
0b+1 0b-1 -0b-1 -0b+1 0b+1_0 0b- 0b+11 0o+7 0o-7 -0o-7 -0o+7 0o_-7 0o+ 0x+1 0B+1 0O-7
0b-1000000000000000000000000000000000000000000000000000000000000000
""")

#: Specials that decode (in the KUBERNETES dialect they are refused: JSON has no NaN).
SPECIALS = words(".nan .NaN .NAN .inf .Inf .INF +.inf -.inf -.Inf")


def decode(text: str, dialect: str = KUBERNETES) -> list[Any]:
    result = load_text(text, dialect=dialect)
    assert not result.problems, [
        ("yaml." + p.kind.value, p.message, p.line) for p in result.problems
    ]
    return [d.data for d in result.documents]


def configmap(name: str, body: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{body}"


def assert_like_kubectl(text: str) -> None:
    expected = kubernetes_decode(text)
    assert isinstance(expected, list), expected
    got = decode(text)
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        assert same(mine, theirs), (mine, theirs)


def test_plain_scalars_as_values_like_kubectl() -> None:
    body = "data:\n" + "".join(f"  v{i}: {s}\n" for i, s in enumerate(SCALARS))
    assert_like_kubectl(configmap("values", body))


#: go-yaml's scanner (an older libyaml) ends a plain scalar at "?" in flow context and refuses
#: the rest: kubectl refuses such a file, which is safe; PyYAML reads it.
FLOW_SCALARS = [s for s in SCALARS if "?" not in s and s != ">"]  # ">" starts no flow scalar


def test_plain_scalars_in_flow_and_sequences_like_kubectl() -> None:
    flow = FLOW_SCALARS
    body = "data:\n  flow: {" + ", ".join(f"f{i}: {s}" for i, s in enumerate(flow[:60])) + "}\n"
    body += "  list: [" + ", ".join(flow[60:]) + "]\n"
    body += "  block:\n" + "".join(f"  - {s}\n" for s in SCALARS if not s.startswith("-"))
    assert_like_kubectl(configmap("flow", body))


def test_plain_scalars_as_keys_like_kubectl() -> None:
    # one document per key: keys such as y and true are both "true" to Kubernetes
    unusable = {"~", "null", "Null", "NULL", "18446744073709551615", "9223372036854775808"}
    unusable |= {"0xFFFFFFFFFFFFFFFF", ">"}
    docs = [
        configmap(f"k{i}", f"data:\n  {s}: value\n")
        for i, s in enumerate(SCALARS)
        if s not in unusable and not s.startswith(("-", "<<"))
    ]
    assert_like_kubectl("---\n".join(docs))


def test_quoted_and_block_scalars_stay_strings_like_kubectl() -> None:
    body = (
        "data:\n"
        + "".join(f"  d{i}: \"{s}\"\n  s{i}: '{s}'\n" for i, s in enumerate(SCALARS[:40]))
        + "  lit: |\n    y\n    0o10\n  fold: >-\n    n\n    on\n  keep: |+\n    yes\n\n"
        + '  esc: "tab\\tnl\\n\\u00e9\\x41\\N\\_"\n'
    )
    assert_like_kubectl(configmap("quoted", body))


def test_explicit_tags_that_fit_like_kubectl() -> None:
    body = (
        'data:\n  a: !!str 10\n  b: !!str y\n  c: !!int "0o10"\n  d: !!float 3\n'
        "  e: !!bool y\n  f: !!bool Off\n  g: !!null ~\n  h: !!timestamp 2024-01-01\n"
        "  i: !!binary aGVsbG8=\n  j: !!float 1e3\n  k: !!int 1_000\n  l: ! y\n"
    )
    assert_like_kubectl(configmap("tags", body))


MERGES = {
    "explicit then merge": "  a: '1'\n  <<: {a: '2', b: '2'}\n  b: '3'\n",
    "two merge keys": "  <<: {a: '1', b: '1'}\n  <<: {a: '2'}\n",
    "merge list": "  <<: [*b, *o]\n",
    "merge list reversed": "  <<: [*o, *b]\n",
    "merge then explicit": "  <<: *o\n  a: '9'\n",
    "nested merges": "  <<: *n\n  <<: {e: f}\n",
    "tagged merge key": "  !!merge <<: {a: '1'}\n",
    "quoted merge key": "  \"<<\": {a: '1'}\n",
    "merge of a merge list": "  <<: [*n, *b]\n  x: '1'\n  <<: [{x: '2'}]\n",
}
_ANCHORS = (
    "base: &b {a: '1', c: c}\nover: &o {a: '2', d: d}\nnested: &n {a: '1', <<: {a: '9', e: e}}\n"
)


@pytest.mark.parametrize("name", sorted(MERGES))
def test_merge_keys_like_kubectl(name: str) -> None:
    assert_like_kubectl(configmap("merged", _ANCHORS + "data:\n" + MERGES[name]))


def test_random_documents_like_kubectl() -> None:
    rng = random.Random(12)
    words = [s for s in FLOW_SCALARS if s[0] != "-" and s != "<<x"]

    def value(depth: int) -> str:
        roll = rng.random()
        if depth > 2 or roll < 0.6:
            return rng.choice(words)
        if roll < 0.8:
            return "[" + ", ".join(value(depth + 1) for _ in range(rng.randint(0, 3))) + "]"
        keys = rng.sample(["a", "b", "c", "d"], rng.randint(0, 3))
        return "{" + ", ".join(f"{k}: {value(depth + 1)}" for k in keys) + "}"

    docs = [
        configmap(f"r{i}", "data:\n" + "".join(f"  f{j}: {value(0)}\n" for j in range(8)))
        for i in range(60)
    ]
    assert_like_kubectl("---\n".join(docs))


REFUSED = {
    "!!int ''": "yaml.tag-mismatch",
    "!!null a": "yaml.tag-mismatch",
    "!!timestamp a": "yaml.tag-mismatch",
    "!!bool maybe": "yaml.tag-mismatch",
    "!!int 1.5": "yaml.tag-mismatch",
    "!!float x": "yaml.tag-mismatch",
    "!!binary '***'": "yaml.tag-mismatch",
    ".nan": "yaml.json-incompatible",
    "-.inf": "yaml.json-incompatible",
    "{<<: x}": "yaml.merge-key",
    "{<<: [x]}": "yaml.merge-key",
    "{~: x}": "yaml.json-incompatible",
    "{18446744073709551615: x}": "yaml.json-incompatible",
}


@pytest.mark.parametrize("value", sorted(REFUSED))
def test_what_kubectl_refuses_is_a_finding_at_its_line(value: str) -> None:
    text = configmap("bad", f"data:\n  ok: fine\n  x: {value}\n")
    assert isinstance(kubernetes_decode(text), str)  # kubectl refuses the file
    result = load_text(text)
    assert [("yaml." + p.kind.value, p.line) for p in result.problems] == [(REFUSED[value], 7)]


def test_specials_decode_outside_kubernetes() -> None:
    body = "".join(f"v{i}: {s}\n" for i, s in enumerate(SPECIALS))
    data = decode(body, KUSTOMIZE)[0]
    assert all(isinstance(v, float) for v in data.values())


# kustomize reads its resources as YAML 1.2 (kyaml), and Argo CD and kubectl decode its output
# again as YAML 1.1: servegate must agree with kustomize on the first and judge the second.
KUSTOMIZE_SAFE = [s for s in SCALARS if s[0] != "-" and s != "<<x"]


def test_kustomize_resources_decode_like_kustomize_and_its_output_like_kubectl() -> None:
    body = "data:\n" + "".join(f"  v{i}: {s}\n" for i, s in enumerate(KUSTOMIZE_SAFE))
    body += "".join(f"  {s}: key\n" for s in ("y", "n", "yes", "on", "off"))
    merged = MERGES["explicit then merge"].replace("\n  ", "\n    ")
    resource = configmap("kz", _ANCHORS + body + "  merged:\n  " + merged)
    mine = decode(resource, KUSTOMIZE)
    output = kustomize({"kustomization.yaml": "resources: [cm.yaml]\n", "cm.yaml": resource})
    assert same(load_plain(output), mine)  # kustomize's view of its input, as servegate's
    consumer = kubernetes_decode(output)
    assert isinstance(consumer, list) and same(load_plain(output), consumer)
    assert mine[0]["data"]["y"] == "key" and mine[0]["data"]["v0"] == "y"


@pytest.mark.parametrize("name", sorted(set(MERGES) - {"two merge keys", "nested merges"}))
def test_kustomize_merge_keys_like_kustomize(name: str) -> None:
    resource = configmap("merged", _ANCHORS + "data:\n" + MERGES[name])
    try:
        output = kustomize({"kustomization.yaml": "resources: [cm.yaml]\n", "cm.yaml": resource})
    except RuntimeError as err:
        result = load_text(resource, dialect=KUSTOMIZE)
        assert result.problems, f"kustomize refused it ({err}), servegate did not"
        return
    assert same(load_plain(output), decode(resource, KUSTOMIZE))


def test_kustomize_refuses_a_second_merge_key() -> None:
    resource = configmap("merged", "data:\n" + MERGES["two merge keys"])
    with pytest.raises(RuntimeError, match="duplicate merge key"):
        kustomize({"kustomization.yaml": "resources: [cm.yaml]\n", "cm.yaml": resource})
    result = load_text(resource, dialect=KUSTOMIZE)
    assert [("yaml." + p.kind.value, p.line) for p in result.problems] == [("yaml.merge-key", 7)]


def test_kustomization_files_decode_like_kubernetes() -> None:
    # kustomize reads a kustomization with sigs.k8s.io/yaml: a later << overrides
    resource = configmap("c", "data: {a: '1'}\n")
    kfile = "resources: [cm.yaml]\nnamespace: a\n<<: {namespace: b}\n"
    output = kustomize({"kustomization.yaml": kfile, "cm.yaml": resource})
    assert load_plain(output)[0]["metadata"]["namespace"] == "b"
    assert decode(kfile)[0]["namespace"] == "b"


def test_positions_follow_the_winning_entry() -> None:
    text = "spec:\n  hostPID: false\n  <<: {hostPID: true}\n"
    loaded = load_text(text)
    assert loaded.documents[0].data == {"spec": {"hostPID": True}}
    assert loaded.documents[0].line_of(("spec", "hostPID")) == 3


def test_a_duplicate_key_keeps_the_last_value_as_kubectl_does() -> None:
    """kubectl and Argo CD (sigs.k8s.io/yaml, go-yaml v2) apply the last value of a repeated
    key: the document is kept, as they read it, beside the yaml.duplicate-key finding; kustomize
    (yaml.v3) refuses the file."""
    text = configmap("c", "data:\n  mode: safe\n  other: x\n  mode: unsafe\n")
    loaded = load_text(text)
    assert [(p.kind.value, p.line) for p in loaded.problems] == [("duplicate-key", 8)]
    assert loaded.documents[0].data["data"] == {"mode": "unsafe", "other": "x"}
    assert loaded.documents[0].line_of(("data", "mode")) == 8
    theirs = kubernetes_decode(text)
    assert isinstance(theirs, list) and same(loaded.documents[0].data, theirs[0]), theirs
    refused = load_text(text, dialect=KUSTOMIZE)
    assert not refused.documents and refused.problems


def test_duplicate_keys_after_conversion_are_duplicates() -> None:
    result = load_text("data:\n  y: a\n  'true': b\n")
    assert [("yaml." + p.kind.value, p.line) for p in result.problems] == [
        ("yaml.duplicate-key", 3)
    ]
    assert not load_text("data:\n  y: a\n  'true': b\n", dialect=KUSTOMIZE).problems


def bomb(levels: int, width: int, documents: int) -> str:
    """``documents`` documents, each ``levels`` levels of ``width``-way aliases."""
    lines = ["a0: &a0 [x, x]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n---\n".join(["\n".join(lines)] * documents) + "\n"


@pytest.mark.parametrize(
    ("levels", "width", "documents"),
    [(30, 2, 1), (9, 4, 10), (7, 4, 2_000), (3, 50, 200)],
)
def test_alias_bombs_end_fast_with_no_documents(levels: int, width: int, documents: int) -> None:
    started = time.perf_counter()
    result = load_text(bomb(levels, width, documents))
    assert time.perf_counter() - started < 5
    assert ["yaml." + p.kind.value for p in result.problems] == ["yaml.alias-bomb"]
    assert result.documents == []


def test_aliases_under_the_file_bound_load() -> None:
    result = load_text(bomb(6, 4, 3))  # about 2,700 added nodes per document
    assert not result.problems and len(result.documents) == 3
    assert 0 < result.alias_nodes < MAX_ALIAS_NODES


def test_the_run_budget_covers_many_files() -> None:
    budget = Budget()
    text = bomb(8, 4, 1)  # about 44,000 added nodes: fine alone
    refused_at = None
    for number in range(40):
        result = load_text(text, budget=budget)
        budget.charge(len(text), result)
        if result.problems:
            refused_at = number
            assert result.problems[0].kind.value == "alias-bomb"
            assert "this run" in result.problems[0].message and not result.cacheable
            break
    assert refused_at is not None and refused_at <= RUN_ALIAS_NODES // 40_000 + 1


def test_the_run_budget_bounds_documents_and_bytes() -> None:
    budget = Budget(documents=3, bytes=10_000)
    result = load_text("a: 1\n---\nb: 2\n---\nc: 3\n---\nd: 4\n", budget=budget)
    assert ["yaml." + p.kind.value for p in result.problems] == ["yaml.too-many-documents"]
    assert budget.refuse(20_000) is not None and budget.refuse(10) is None
    charged = LoadResult([], [])
    budget.charge(10_000, charged)
    budget.charge(10_000, charged)  # once per result
    assert budget.bytes == 0


def test_dense_files_are_refused_by_their_nodes_before_parsing() -> None:
    """8 MiB of ``[1,1,1,...]`` is 3.9 million nodes: a minute and 1.8 GB to check. The nodes
    are estimated from the text (lines, commas, colons, brackets) and bounded per file and per
    run; the largest upstream CRDs estimate at a sixth of the file bound."""
    dense = "k: [" + ",".join(["1"] * (MAX_NODES + 10)) + "]\n"
    started = time.perf_counter()
    result = load_text(dense)
    assert time.perf_counter() - started < 1
    assert ["yaml." + p.kind.value for p in result.problems] == ["yaml.too-large"]
    assert "YAML nodes" in result.problems[0].message and result.documents == []
    # a flow mapping nested on one line is counted by its colons and brackets
    assert node_estimate("k: " + "{a: " * 100 + "1" + "}" * 100) > 200
    assert node_estimate(b"a: 1\nb: [1, 2]\n") == node_estimate("a: 1\nb: [1, 2]\n") == 6
    budget = Budget(nodes=1_000)
    text = "k: [" + ",".join(["1"] * 600) + "]\n"
    first = load_bytes(text.encode(), budget=budget)
    assert not first.problems
    budget.charge(len(text), first, node_estimate(text))
    second = load_bytes(text.encode(), budget=budget)
    assert "per run" in second.problems[0].message and not second.cacheable


def test_a_byte_order_mark_may_open_every_document_like_kubectl_and_kustomize() -> None:
    """kubectl splits a stream at its ``---`` lines and decodes each document alone, so each
    may start with a BOM; libyaml refused the second (a yaml.syntax error kubectl did not
    have). The lines stay where they are."""
    text = configmap("a", "data: {k: y}\n") + "---\n\ufeff" + configmap("b", "data: {k: n}\n")
    assert_like_kubectl(text)
    result = load_text(text)
    assert result.documents[1].line_of(("metadata", "name")) == 10
    output = kustomize({"kustomization.yaml": "resources: [cm.yaml]\n", "cm.yaml": text})
    assert same(load_plain(output), decode(text, KUSTOMIZE))


def test_load_plain_refuses_what_kubernetes_refuses() -> None:
    assert load_plain("a: y\n---\nb: '0o10'\n---\n") == [{"a": True}, {"b": "0o10"}]
    with pytest.raises(Exception, match="JSON"):
        load_plain("a: .nan\n")


def test_alias_expansion_is_counted_whenever_an_alias_is_written() -> None:
    """Only text with a ``*`` can hold an alias; a ``*`` inside a string still gets the count."""
    aliased = load_text("a: &x [1, 2, 3]\nb: *x\nc: '/v1/models/*'\n")
    assert aliased.alias_nodes == 4  # the sequence and its three items, copied once
    assert load_text("a: &x [1, 2, 3]\nc: '/v1/models/*'\n").alias_nodes == 0
    assert load_text("a: &x [1, 2, 3]\nb: [1, 2, 3]\n").alias_nodes == 0
