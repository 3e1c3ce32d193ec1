"""Hypothesis strategies for hostile messages: bodies that are not JSON or not UTF-8, deep nesting, NUL
characters, numbers out of range, and valid envelopes whose values pass the schema but are odd (huge
strings, unusual unicode, boundary and leap-second dates); hostile NATS headers too."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import strategies as st

from pm_platform.contracts import Catalog, EventContract
from pm_platform.envelope import new_id

# The two messages of the report, always tried.
DEEP_ARRAY = b"[" * 100_000
LEAP_SECOND = "2026-12-31T23:59:60Z"


def valid_envelope(catalog: Catalog, event_type: str, example: int = 0) -> dict[str, Any]:
    """A valid envelope around the contract's example, with a fresh id."""
    contract = catalog.contract(event_type)
    data = json.loads(contract.examples[example].read_text(encoding="utf-8"))
    return envelope_for(contract, data)


def envelope_for(contract: EventContract, data: dict[str, Any]) -> dict[str, Any]:
    site = data.get("site", "harbour")
    document: dict[str, Any] = {
        "specversion": "1.0",
        "id": new_id(),
        "source": f"pm/{contract.producer}",
        "type": contract.type,
        "subject": "hostile-test",
        "time": "2026-11-23T08:00:00+00:00",
        "datacontenttype": "application/json",
        "dataschema": contract.dataschema,
        "site": site,
        "correlationid": new_id(),
        "data": data,
    }
    if contract.has_department:
        document["department"] = data.get("department", "engineering")
    return document


odd_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "\ud800",
            "\udfff",
            "\u202e",
            "\ufeff",
            "\uffff",
            "\U0001d54f" * 30,
            "é" * 200,
            "'; DROP TABLE inbox; --",
            "{{ 7*7 }}",
            "\r\n",
            " ",
            "",
            "null",
        ]
    ),
    st.integers(min_value=1, max_value=300_000).map(lambda n: "x" * n),
)
instants = st.sampled_from(
    [
        LEAP_SECOND,
        "2016-12-31T23:59:60+00:00",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:59:59.999999999Z",
        "2026-02-30T00:00:00Z",
        "2026-11-23T08:00:00",
        "2026-11-23",
        "2026-11-23T25:00:00Z",
        "2026-11-23t08:00:00z",
    ]
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**64),
    st.integers(max_value=-(2**63) + 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just(10**4000),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, odd_text, instants),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(odd_text, children, max_size=4)),
    max_leaves=12,
)


def nested(depth: int) -> str:
    """A marker ``encode`` turns into ``depth`` nested arrays (json.dumps itself stops near 1000 levels)."""
    return f"<nested:{depth}>"


@st.composite
def hostile_envelope(draw: st.DrawFn, catalog: Catalog, event_types: list[str]) -> dict[str, Any]:
    """A valid envelope with some values replaced: envelope attributes, data fields, or added data keys."""
    event_type = draw(st.sampled_from(event_types))
    contract = catalog.contract(event_type)
    document = valid_envelope(catalog, event_type, draw(st.integers(0, len(contract.examples) - 1)))
    data = document["data"]
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["envelope", "data", "data", "nested"]))
        if where == "envelope":
            key = draw(st.sampled_from(sorted(document)))
            document[key] = draw(st.one_of(json_values, instants, odd_text))
        elif where == "data" and data:
            key = draw(st.sampled_from(sorted(data)))
            data[key] = draw(st.one_of(json_values, instants, odd_text, numbers))
        else:
            key = draw(st.sampled_from(sorted(data) or ["extra"]))
            data[key] = nested(draw(st.integers(100, 3000)))
    return document


def encode(document: Any) -> bytes:
    """JSON as a careless producer writes it: lone surrogates and NaN survive (``ensure_ascii``)."""
    text = json.dumps(document)
    for match in set(re.findall(r'"<nested:(\d+)>"', text)):
        depth = int(match)
        text = text.replace(f'"<nested:{depth}>"', "[" * depth + "1" + "]" * depth)
    return text.encode()


def hostile_bodies(catalog: Catalog, event_types: list[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=200),
        st.sampled_from(
            [
                DEEP_ARRAY,
                b"{" * 50_000,
                b'{"a":' * 20_000,
                b"",
                b"null",
                b"[]",
                b'"x"',
                b"1e999999",
                b"NaN",
                b"1" * 5000,
                b'{"id": "\x00"}',
                b"\x00" * 10,
                b"\xff\xfe{}",
                b"\xef\xbb\xbf{}",
                encode(nested(5000)),
            ]
        ),
        json_values.map(encode),
        hostile_envelope(catalog, event_types).map(encode),
        # Valid UTF-8 JSON with a raw NUL, a raw control character or a raw invalid byte inside a string.
        hostile_envelope(catalog, event_types).map(lambda d: encode(d).replace(b'"subject"', b'"sub\x00ject"', 1)),
        hostile_envelope(catalog, event_types).map(lambda d: encode(d).replace(b"hostile-test", b"hostile\xff", 1)),
    )


# Names as NATS allows them (nats-py refuses others before sending); values anything encodable (it turns
# CR and LF into spaces, so a value cannot end its line).
header_text = st.one_of(
    st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}", fullmatch=True),
    st.sampled_from(["traceparent", "tracestate", "Nats-Msg-Id", "baggage", "Content-Type"]),
)
header_values = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    st.sampled_from(
        [
            "00-" + "0" * 32 + "-" + "0" * 16 + "-00",
            "ff-zz-zz-zz",
            "00-abc",
            "garbage",
            "x" * 4000,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "ünïcödé",
            ",,,=,=",
            "k=" + "v" * 600,
        ]
    ),
)
hostile_headers = st.dictionaries(header_text, header_values, max_size=4)
