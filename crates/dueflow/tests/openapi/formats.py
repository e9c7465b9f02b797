"""Teaches schemathesis the string formats the dueflow OpenAPI document
names for values with a grammar of their own, which JSON Schema cannot
spell out: the task query language, sort keys, RFC 5545 recurrence rules
and reminder offsets. Each strategy draws only valid values, so a request
the fuzzer builds from the document is one the server must accept. Loaded
by crates/dueflow/tests/openapi_fuzz.rs through SCHEMATHESIS_HOOKS."""

import re

from hypothesis import strategies as st

import schemathesis

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8).filter(
    lambda w: w not in ("overdue",)
)
FILTER = st.sampled_from(
    [
        "status:open",
        "status:done",
        "priority>=high",
        "priority:none",
        "tag:work",
        "-tag:home",
        "due<=7d",
        "due:none",
        "created>=2026-01-01",
        "updated<2030-12-31",
        "overdue",
    ]
)
TERM = st.one_of(WORD, FILTER, WORD.map(lambda w: f'"{w} {w}"'))


@st.composite
def queries(draw):
    terms = draw(st.lists(TERM, max_size=5))
    return " ".join(terms)


# `relevance` sorts by the search words of `q` and is refused without them.
SORT_KEYS = ["due", "priority", "created", "updated", "title", "urgency"]


@st.composite
def sorts(draw):
    keys = draw(st.lists(st.sampled_from(SORT_KEYS), unique=True, max_size=6))
    return ",".join(draw(st.sampled_from(["", "-"])) + k for k in keys)


@st.composite
def rrules(draw):
    rule = "FREQ=" + draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    if draw(st.booleans()):
        rule += f";INTERVAL={draw(st.integers(1, 30))}"
    if draw(st.booleans()):
        rule += f";COUNT={draw(st.integers(1, 50))}"
    return rule


@st.composite
def offsets(draw):
    days = draw(st.integers(0, 365))
    if days == 365:
        return "P365D"
    hours, minutes = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    if days == hours == minutes == 0:
        minutes = 15
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return (f"P{days}D" if days else "P") + (f"T{time}" if time else "")


schemathesis.openapi.format("dueflow-query", queries())
schemathesis.openapi.format("dueflow-sort", sorts())
schemathesis.openapi.format("rrule", rrules())
schemathesis.openapi.format("dueflow-offset", offsets())


# The alphabet of a cursor, as the document says (base64url): a cursor
# outside it is schema-violating and left for the server to refuse.
CURSOR = re.compile(r"[A-Za-z0-9_-]*")


@schemathesis.hook("map_query")
def no_invented_cursors(context, query):
    """A cursor is valid only as the server issued it (`next_cursor`): the
    fuzzer asks for first pages instead of inventing one."""
    cursor = (query or {}).get("cursor")
    if isinstance(cursor, str) and cursor and CURSOR.fullmatch(cursor):
        query = {k: v for k, v in query.items() if k != "cursor"}
    return query
