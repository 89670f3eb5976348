"""mem0 filter syntax → filter tree: every operator, key kind, logical form and error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mem0_mcp.errors import InvalidInputError
from mem0_mcp.filters import (
    And,
    Condition,
    Not,
    Or,
    all_of,
    lowercase_shadow,
    parse_filters,
    translate,
)

UID = "6f1c2a52-8a1e-4c43-9a57-2b8f0f6d1e10"
UID2 = "0b7e6f9e-3c3c-4f39-8a9b-44d1a4a8f2aa"


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


# -- plain keys and operators ----------------------------------------------------------------


def test_bare_value_is_eq_on_metadata() -> None:
    assert parse_filters({"topic": "work"}) == Condition("metadata.topic", "eq", "work")


def test_bare_list_is_in() -> None:
    assert parse_filters({"topic": ["a", "b"]}) == Condition("metadata.topic", "in", ("a", "b"))


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", "x", "x"),
        ("eq", 3, 3),
        ("eq", 2.5, 2.5),
        ("eq", True, True),
        ("ne", "x", "x"),
        ("gt", 1, 1),
        ("gte", 1.5, 1.5),
        ("lt", -2, -2),
        ("lte", 0, 0),
        ("in", ["a", 1, False], ("a", 1, False)),
        ("nin", ["a"], ("a",)),
        ("contains", "ell", "ell"),
        ("icontains", "ELL", "ELL"),
    ],
)
def test_each_operator(op: str, value: object, expected: object) -> None:
    assert parse_filters({"k": {op: value}}) == Condition("metadata.k", op, expected)  # type: ignore[arg-type]


def test_wildcard_is_exists() -> None:
    assert parse_filters({"k": "*"}) == Condition("metadata.k", "exists")
    assert parse_filters({"user_id": "*"}) == Condition("user_id", "exists")


def test_wildcard_inside_operator_is_a_literal() -> None:
    assert parse_filters({"k": {"eq": "*"}}) == Condition("metadata.k", "eq", "*")


def test_two_operators_on_one_key_both_apply() -> None:
    assert parse_filters({"n": {"gte": 1, "lt": 5}}) == And(
        (Condition("metadata.n", "gte", 1), Condition("metadata.n", "lt", 5))
    )


def test_several_top_level_keys_are_and() -> None:
    assert parse_filters({"a": 1, "user_id": "u"}) == And(
        (Condition("metadata.a", "eq", 1), Condition("user_id", "eq", "u"))
    )


# -- key mapping -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["user_id", "agent_id", "run_id", "actor_id", "role", "hash"])
def test_builtin_keys_map_to_themselves(key: str) -> None:
    assert parse_filters({key: "v"}) == Condition(key, "eq", "v")


@pytest.mark.parametrize("key", ["memory", "data"])
def test_memory_text_key(key: str) -> None:
    assert parse_filters({key: {"icontains": "Pizza"}}) == Condition("data", "icontains", "Pizza")


def test_nested_and_quoted_metadata_keys() -> None:
    assert parse_filters({"address.city": "Paris"}) == Condition(
        "metadata.address.city", "eq", "Paris"
    )
    assert parse_filters({"my key.x": 1}) == Condition('metadata."my key".x', "eq", 1)


def test_metadata_prefix_is_optional_and_escapes_builtins() -> None:
    assert parse_filters({"metadata.topic": "a"}) == Condition("metadata.topic", "eq", "a")
    assert parse_filters({"metadata.user_id": "a"}) == Condition("metadata.user_id", "eq", "a")
    assert parse_filters({"metadata.id": 7}) == Condition("metadata.id", "eq", 7)


@pytest.mark.parametrize("key", ["id", "memory_id"])
def test_id_conditions(key: str) -> None:
    assert parse_filters({key: UID.upper()}) == Condition("id", "eq", UID)
    assert parse_filters({key: {"nin": [UID, UID2]}}) == Condition("id", "nin", (UID, UID2))
    assert parse_filters({key: {"ne": UID}}) == Condition("id", "ne", UID)


# -- dates -----------------------------------------------------------------------------------


def test_datetime_with_offset() -> None:
    assert parse_filters({"created_at": {"gte": "2024-05-01T10:00:00+02:00"}}) == Condition(
        "created_ts", "gte", ts("2024-05-01T08:00:00")
    )


def test_naive_datetime_and_z_are_utc() -> None:
    expected = Condition("updated_ts", "lt", ts("2024-05-01T10:00:00"))
    assert parse_filters({"updated_at": {"lt": "2024-05-01T10:00:00"}}) == expected
    assert parse_filters({"updated_at": {"lt": "2024-05-01T10:00:00Z"}}) == expected


def test_epoch_numbers() -> None:
    assert parse_filters({"created_at": {"gt": 1714557600}}) == Condition(
        "created_ts", "gt", 1714557600.0
    )
    assert parse_filters({"created_at": 1714557600.5}) == Condition(
        "created_ts", "eq", 1714557600.5
    )


def test_bare_date_means_the_whole_utc_day() -> None:
    start, end = ts("2024-05-01T00:00:00"), ts("2024-05-02T00:00:00")
    day = And((Condition("created_ts", "gte", start), Condition("created_ts", "lt", end)))

    def parsed(op: str) -> object:
        return parse_filters({"created_at": {op: "2024-05-01"}})

    assert parse_filters({"created_at": "2024-05-01"}) == day
    assert parsed("eq") == day
    assert parsed("ne") == Not(day)
    assert parsed("gt") == Condition("created_ts", "gte", end)
    assert parsed("gte") == Condition("created_ts", "gte", start)
    assert parsed("lt") == Condition("created_ts", "lt", start)
    assert parsed("lte") == Condition("created_ts", "lt", end)


def test_date_range() -> None:
    flt = parse_filters({"created_at": {"gte": "2024-01-01", "lte": "2024-01-31"}})
    assert flt == And(
        (
            Condition("created_ts", "gte", ts("2024-01-01T00:00:00")),
            Condition("created_ts", "lt", ts("2024-02-01T00:00:00")),
        )
    )


# -- logical operators -----------------------------------------------------------------------


def test_and_or_not() -> None:
    a, b = Condition("metadata.a", "eq", 1), Condition("metadata.b", "eq", 2)
    assert parse_filters({"AND": [{"a": 1}, {"b": 2}]}) == And((a, b))
    assert parse_filters({"OR": [{"a": 1}, {"b": 2}]}) == Or((a, b))
    assert parse_filters({"NOT": [{"a": 1}, {"b": 2}]}) == Not(Or((a, b)))
    assert parse_filters({"NOT": [{"a": 1}]}) == Not(a)
    assert parse_filters({"NOT": {"a": 1}}) == Not(a)
    assert parse_filters({"OR": [{"a": 1}]}) == a


def test_nesting_and_multi_key_items() -> None:
    flt = parse_filters(
        {
            "user_id": "u",
            "OR": [
                {"AND": [{"a": {"gte": 1}}, {"NOT": [{"b": "*"}]}]},
                {"c": "x", "d": {"in": ["y", "z"]}},
            ],
        }
    )
    assert flt == And(
        (
            Condition("user_id", "eq", "u"),
            Or(
                (
                    And(
                        (Condition("metadata.a", "gte", 1), Not(Condition("metadata.b", "exists")))
                    ),
                    And(
                        (
                            Condition("metadata.c", "eq", "x"),
                            Condition("metadata.d", "in", ("y", "z")),
                        )
                    ),
                )
            ),
        )
    )


def test_depth_limit() -> None:
    flt: dict = {"a": 1}
    for _ in range(8):
        flt = {"AND": [flt]}
    parse_filters(flt)  # exactly 8 levels is fine
    with pytest.raises(InvalidInputError, match="nested more than 8 levels"):
        parse_filters({"OR": [flt]})
    with pytest.raises(InvalidInputError, match="nested more than 2"):
        parse_filters({"AND": [{"OR": [{"NOT": [{"a": 1}]}]}]}, max_depth=2)


def test_all_of() -> None:
    a = Condition("x", "eq", 1)
    assert all_of(None, None) is None
    assert all_of(a, None) == a
    assert all_of(a, a) == And((a, a))


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "field", "fragment"),
    [
        ({"k": {"like": "x"}}, "filters.k", "unknown operator 'like'"),
        ({"k": {"gte": 1, "bogus": 2}}, "filters.k", "unknown operator 'bogus'"),
        ({"k": {"city": "Paris"}}, "filters.k", "dotted key 'k.city'"),
        ({"k": {}}, "filters.k", "empty operator object"),
        ({"k": {"gt": "5"}}, "filters.k", "gt compares numbers"),
        ({"k": {"gt": True}}, "filters.k", "gt compares numbers"),
        ({"k": {"in": "a"}}, "filters.k", "in needs a list"),
        ({"k": {"in": []}}, "filters.k", "non-empty list"),
        ({"k": {"nin": [["a"]]}}, "filters.k", "nin needs a string, number or boolean"),
        ({"k": {"contains": 3}}, "filters.k", "contains needs a non-empty string"),
        ({"k": {"icontains": ""}}, "filters.k", "icontains needs a non-empty string"),
        ({"k": None}, "filters.k", "NOT"),
        ({"k": {"eq": {"a": 1}}}, "filters.k", "eq needs a string, number or boolean"),
        ({"k": {"eq": float("nan")}}, "filters.k", "finite"),
        ({"user_id": 5}, "filters.user_id", "needs a string"),
        ({"user_id": {"gt": "a"}}, "filters.user_id", "use one of eq, ne, in, nin, contains"),
        ({"role": {"icontains": "a"}}, "filters.role", "does not apply to 'role'"),
        ({"memory": {"gte": 3}}, "filters.memory", "does not apply to 'memory'"),
        ({"created_at": {"in": ["2024-01-01"]}}, "filters.created_at", "does not apply"),
        ({"created_at": {"gte": "yesterday"}}, "filters.created_at", "ISO 8601"),
        ({"created_at": {"gte": "2024-02-30"}}, "filters.created_at", "not a valid date"),
        ({"created_at": "9999-12-31"}, "filters.created_at", "past year 9999"),
        ({"created_at": {"gte": 1714557600000}}, "filters.created_at", "milliseconds"),
        ({"created_at": {"gte": True}}, "filters.created_at", "boolean"),
        ({"id": "abc"}, "filters.id", "UUID"),
        ({"memory_id": {"contains": "a"}}, "filters.memory_id", "does not apply"),
        ({"id": "*"}, "filters.id", "always present"),
        ({"a..b": 1}, "filters.a..b", "bad metadata key"),
        ({"a[0]": 1}, "filters.a[0]", "bad metadata key"),
        ({"AND": {"a": 1}}, "filters.AND", "list of filter objects"),
        ({"OR": []}, "filters.OR", "at least one"),
        ({"AND": [{"a": 1}, "b"]}, "filters.AND[1]", "non-empty filter object"),
        ({"OR": [{}]}, "filters.OR[0]", "non-empty filter object"),
        ({"and": [{"a": 1}]}, "filters.and", "capitals"),
        ({"OR": [{"x": {"gt": "z"}}]}, "filters.OR[0].x", "gt compares numbers"),
        ({"": 1}, "filters", "non-empty strings"),
    ],
)
def test_bad_input_names_the_key(filters: dict, field: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_filters(filters)
    assert info.value.field == field
    assert fragment in str(info.value)


@pytest.mark.parametrize("bad", [[{"a": 1}], "a", None, 3])
def test_non_dict_filters(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="JSON object") as info:
        parse_filters(bad)  # type: ignore[arg-type]
    assert info.value.field == "filters"


def test_empty_filters() -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        parse_filters({})


# -- the _lc shadow --------------------------------------------------------------------------


def test_lowercase_shadow() -> None:
    shadow = lowercase_shadow(
        "I live in STRASSE 5",
        {
            "City": "Straße",
            "flag": True,
            "off": False,
            "n": 3,
            "x": None,
            "tags": ["Work", 2, True, {"a": "B"}],
            "nested": {"Deep": "ÄB", "num": 1},
            "numbers": {"n": 1},
            "ints": [1, 2],
        },
    )
    assert shadow == {
        "data": "i live in strasse 5",
        "metadata": {
            "City": "strasse",
            "flag": 1,
            "off": 0,
            "tags": ["work", 1],
            "nested": {"Deep": "äb"},
        },
    }
    assert lowercase_shadow("x", None) == {"data": "x", "metadata": {}}


# -- lowering --------------------------------------------------------------------------------


class _Recorder:
    """A builder producing tuples, to check what ``translate`` asks a backend for."""

    def match_keyword(self, key, value):
        return ("kw", key, value)

    def match_any(self, key, values):
        return ("any", key, tuple(values))

    def match_bool(self, key, value):
        return ("bool", key, value)

    def range(self, key, *, gt=None, gte=None, lt=None, lte=None):
        return ("range", key, gt, gte, lt, lte)

    def substring(self, key, text):
        return ("sub", key, text)

    def is_empty(self, key):
        return ("empty", key)

    def has_id(self, ids):
        return ("ids", tuple(ids))

    def all_of(self, items):
        return ("all", *items)

    def any_of(self, items):
        return ("any_of", *items)

    def none_of(self, items):
        return ("none", *items)


def lower(filters: dict) -> tuple:
    return translate(parse_filters(filters), _Recorder())


def test_translate_semantics() -> None:
    assert lower({"k": "v"}) == ("all", ("kw", "metadata.k", "v"))
    assert lower({"k": 2}) == ("all", ("range", "metadata.k", None, 2.0, None, 2.0))
    assert lower({"k": True}) == ("all", ("bool", "metadata.k", True))
    assert lower({"k": {"ne": "v"}}) == ("all", ("none", ("kw", "metadata.k", "v")))
    assert lower({"k": {"in": ["a", "b", 1, False]}}) == (
        "all",
        (
            "any_of",
            ("any", "metadata.k", ("a", "b")),
            ("range", "metadata.k", None, 1.0, None, 1.0),
            ("bool", "metadata.k", False),
        ),
    )
    assert lower({"k": {"nin": ["a"]}}) == ("all", ("none", ("any", "metadata.k", ("a",))))
    assert lower({"k": "*"}) == ("all", ("none", ("empty", "metadata.k")))
    assert lower({"memory": {"contains": "Ab"}}) == ("all", ("sub", "data", "Ab"))
    assert lower({"memory": {"icontains": "ÄB"}}) == ("all", ("sub", "_lc.data", "äb"))
    assert lower({"k": {"icontains": "X"}}) == ("all", ("sub", "_lc.metadata.k", "x"))
    assert lower({"id": {"in": [UID]}}) == ("all", ("ids", (UID,)))
    assert lower({"id": {"ne": UID}}) == ("all", ("none", ("ids", (UID,))))
    assert lower({"OR": [{"a": "x"}, {"b": "y"}]}) == (
        "any_of",
        ("kw", "metadata.a", "x"),
        ("kw", "metadata.b", "y"),
    )


def test_translate_rejects_hand_built_nonsense() -> None:
    with pytest.raises(ValueError):
        translate(Condition("user_id", "icontains", "x"), _Recorder())
    with pytest.raises(ValueError):
        translate(Condition("id", "gt", 1), _Recorder())
    with pytest.raises(ValueError):
        translate(Condition("k", "gt", "a"), _Recorder())
