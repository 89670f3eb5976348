"""Ranking: the fusion arithmetic, what a query names (people, dates), and hybrid search
through the engine."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mem0_mcp import AsyncMemory, MemoryConfig
from mem0_mcp.dates import date_spans, overlaps
from mem0_mcp.entities import dense_query, names_actor
from mem0_mcp.filters import Condition
from mem0_mcp.fusion import (
    ACTOR_WEIGHT,
    DATE_WEIGHT,
    DENSE_WEIGHT,
    KEYWORD_SATURATION,
    convex_fusion,
    convex_score,
    keyword_strength,
)
from mem0_mcp.keywords import KeywordEncoder
from mem0_mcp.vector_stores.base import ScoredPoint

# --- convex fusion --------------------------------------------------------------------------


def _ids(points: list[ScoredPoint]) -> list[str]:
    return [p.id for p in points]


def test_convex_fusion_orders_by_the_combined_score() -> None:
    cosine = {"semantic": 0.80, "both": 0.50, "weak": 0.10}
    bm25 = {"keyword": 60.0, "both": 12.0}
    fused = convex_fusion(cosine, bm25, {})
    assert _ids(fused) == ["keyword", "both", "semantic", "weak"]
    assert [p.score for p in fused] == sorted((p.score for p in fused), reverse=True)
    # Each score is exactly the documented formula.
    for p in fused:
        expected = DENSE_WEIGHT * max(cosine.get(p.id, 0.0), 0.0) + (1 - DENSE_WEIGHT) * (
            bm25.get(p.id, 0.0) / (bm25.get(p.id, 0.0) + KEYWORD_SATURATION)
        )
        assert p.score == pytest.approx(expected)


def test_convex_fusion_weights_move_the_balance() -> None:
    cosine = {"a": 0.9, "b": 0.2}
    bm25 = {"a": 1.0, "b": 40.0}
    assert _ids(convex_fusion(cosine, bm25, {}, dense_weight=1.0)) == ["a", "b"]
    assert _ids(convex_fusion(cosine, bm25, {}, dense_weight=0.0)) == ["b", "a"]
    # A larger saturation constant weakens the keyword side.
    assert _ids(convex_fusion(cosine, bm25, {}, dense_weight=0.3, saturation=10.0)) == ["b", "a"]
    assert _ids(convex_fusion(cosine, bm25, {}, dense_weight=0.3, saturation=1e6)) == ["a", "b"]


def test_convex_fusion_breaks_ties_by_cosine_then_id() -> None:
    # Equal fused scores (exact in binary floating point): 0.5·0.75 = 0.5·0.25 + 0.5·20/40.
    # "x" has the higher cosine; "m" and "n" tie on everything.
    w = 0.5
    cosine = {"x": 0.75, "y": 0.25, "m": 0.3, "n": 0.3}
    bm25 = {"y": 20.0}
    fused = convex_fusion(cosine, bm25, {}, dense_weight=w, saturation=20.0)
    assert fused[0].score == fused[1].score == 0.375
    assert _ids(fused) == ["x", "y", "m", "n"]
    assert _ids(convex_fusion(cosine, bm25, {}, dense_weight=w)) == _ids(
        convex_fusion(dict(reversed(cosine.items())), bm25, {}, dense_weight=w)
    )


def test_convex_fusion_of_nothing_is_nothing() -> None:
    assert convex_fusion({}, {}, {}) == []
    only_dense = convex_fusion({"a": 0.5}, {}, {"a": {"data": "x"}})
    assert only_dense == [ScoredPoint("a", DENSE_WEIGHT * 0.5, {"data": "x"})]
    only_keywords = convex_fusion({}, {"a": KEYWORD_SATURATION}, {})
    assert only_keywords[0].score == pytest.approx((1 - DENSE_WEIGHT) * 0.5)
    assert only_keywords[0].payload == {}


def test_convex_fusion_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="dense_weight"):
        convex_fusion({"a": 1.0}, {}, {}, dense_weight=1.5)
    with pytest.raises(ValueError, match="saturation"):
        convex_fusion({"a": 1.0}, {}, {}, saturation=0.0)


@given(
    cos=st.floats(min_value=-1.0, max_value=1.0),
    bm25=st.floats(min_value=0.0, max_value=1e6),
    weight=st.floats(min_value=0.0, max_value=1.0),
)
def test_convex_score_is_within_0_and_1_and_monotonic(
    cos: float, bm25: float, weight: float
) -> None:
    score = convex_score(cos, bm25, dense_weight=weight)
    assert 0.0 <= score <= 1.0
    assert convex_score(min(cos + 0.1, 1.0), bm25, dense_weight=weight) >= score
    assert convex_score(cos, bm25 + 1.0, dense_weight=weight) >= score
    # No keyword match: never above the dense weight.
    assert convex_score(cos, 0.0, dense_weight=weight) <= weight + 1e-12


def test_actor_and_date_signals_count_only_for_a_query_that_names_them() -> None:
    cosine = {"said_by_alice": 0.4, "said_to_alice": 0.4, "other": 0.4}
    bm25 = {"said_by_alice": 5.0, "said_to_alice": 10.0, "other": 5.0}
    plain = convex_fusion(cosine, bm25, {})
    assert _ids(plain) == ["said_to_alice", "other", "said_by_alice"]
    # No memory's actor named, no date named: exactly the two-signal formula.
    for p in plain:
        assert p.score == pytest.approx(convex_score(cosine[p.id], bm25[p.id]))
    by_actor = convex_fusion(cosine, bm25, {}, by_actor={"said_by_alice"})
    assert _ids(by_actor)[0] == "said_by_alice"
    # The actor's weight joins the divisor: a weighted mean, still within 0..1.
    top = by_actor[0].score
    assert top == pytest.approx((convex_score(0.4, 5.0) + ACTOR_WEIGHT) / (1 + ACTOR_WEIGHT))
    dated = convex_fusion(cosine, bm25, {}, by_actor={"said_by_alice"}, dated={"other"})
    scores = {p.id: p.score for p in dated}
    assert scores["said_to_alice"] == pytest.approx(
        convex_score(0.4, 10.0) / (1 + ACTOR_WEIGHT + DATE_WEIGHT)
    )
    assert scores["other"] == pytest.approx(
        (convex_score(0.4, 5.0) + DATE_WEIGHT) / (1 + ACTOR_WEIGHT + DATE_WEIGHT)
    )
    off = convex_fusion(cosine, bm25, {}, by_actor={"said_by_alice"}, actor_weight=0.0)
    assert _ids(off) == _ids(plain)


@given(
    cos=st.floats(min_value=-1.0, max_value=1.0),
    bm25=st.floats(min_value=0.0, max_value=1e6),
    actor=st.sampled_from([None, False, True]),
    dated=st.sampled_from([None, False, True]),
)
def test_convex_score_with_every_signal_stays_within_0_and_1(
    cos: float, bm25: float, actor: bool | None, dated: bool | None
) -> None:
    score = convex_score(cos, bm25, actor=actor, date=dated)
    assert 0.0 <= score <= 1.0
    if actor is not None:
        assert convex_score(cos, bm25, actor=True, date=dated) >= score
    if dated is not None:
        assert convex_score(cos, bm25, actor=actor, date=True) >= score


def test_keyword_strength() -> None:
    assert keyword_strength(0.0) == 0.0 and keyword_strength(-1.0) == 0.0
    assert keyword_strength(KEYWORD_SATURATION) == pytest.approx(0.5)
    assert 0.0 < keyword_strength(1.0) < keyword_strength(10.0) < keyword_strength(1e9) < 1.0


# --- keywords -------------------------------------------------------------------------------


def test_keyword_encoder_stems_and_drops_stop_words() -> None:
    enc = KeywordEncoder()
    assert enc.query("what is the").indices == []  # stop words only
    q = enc.query("running shoes")
    d = enc.document("She runs in her new shoe")
    assert set(q.indices) <= set(d.indices)  # run ~ running, shoe ~ shoes
    assert all(v == 1.0 for v in q.values)
    assert all(0.0 < v < 2.2 for v in enc.document("one two three").values)  # < k1 + 1


# --- what a query names ---------------------------------------------------------------------


def test_the_query_embedding_leaves_out_proper_nouns() -> None:
    assert dense_query("What does Melanie do to destress?") == "What does do to destress?"
    assert dense_query("What are Melanie's hobbies?") == "What are hobbies?"
    assert dense_query("Where did Dave and Calvin go in Tokyo?") == "Where did and go in?"
    assert dense_query("Did James' dogs like the park?") == "Did dogs like the park?"
    # A sentence's first word and the pronoun I are not names.
    assert dense_query("Where did I leave the keys? Ask Bob.") == "Where did I leave the keys? Ask."
    assert dense_query("what did i say about rent") == "what did i say about rent"


def test_a_query_of_names_keeps_them() -> None:
    # Fewer than two lower-case words would be left: the names are the query.
    assert dense_query("Project Phoenix Budget") == "Project Phoenix Budget"
    assert dense_query("Who is Jill?") == "Who is Jill?"
    assert dense_query("Best Pizza In Town") == "Best Pizza In Town"


def test_a_query_names_an_actor_by_whole_words_in_any_case() -> None:
    assert names_actor("What does Alice do to relax?", "Alice")
    assert names_actor("what did alice's brother say?", "Alice")
    assert names_actor("Did Mary Ann call?", "mary ann")
    assert not names_actor("What does Alicia do?", "Alice")
    assert not names_actor("What does Al do?", "Alice")
    assert not names_actor("anything", None) and not names_actor("anything", " ")


def test_dates_in_text_become_day_spans() -> None:
    oct_2023 = (date(2023, 10, 1), date(2023, 10, 31))
    assert date_spans("What did Dave do in October 2023?") == [oct_2023]
    assert date_spans("the first weekend of October, 2023") == [oct_2023]
    day = (date(2023, 10, 29), date(2023, 10, 29))
    for text in (
        "[10:49 am on 29 October, 2023] Dave: hi",
        "on Oct 29th 2023",
        "the 29th of October 2023",
        "October 29, 2023",
        "logged 2023-10-29",
    ):
        assert date_spans(text) == [day], text
    assert date_spans("summer 2021") == [(date(2021, 6, 1), date(2021, 8, 31))]
    assert date_spans("winter 2023") == [(date(2023, 12, 1), date(2024, 2, 29))]
    assert date_spans("back in 2019, then May 2020") == [
        (date(2019, 1, 1), date(2019, 12, 31)),
        (date(2020, 5, 1), date(2020, 5, 31)),
    ]


def test_dates_without_a_year_or_impossible_ones_are_not_dates() -> None:
    assert date_spans("I may go camping in June, on May 3") == []
    assert date_spans("31 February 2023") == []
    assert date_spans("order 12345 costs 3000, model x2023") == []


def test_a_month_is_read_only_as_a_whole_word() -> None:
    year_2023 = [(date(2023, 1, 1), date(2023, 12, 31))]
    assert date_spans("the dismay 2023") == year_2023
    # Cut at the edge of the look-back window, "xmay" must not read as May either.
    assert date_spans("xmay" + " " * 21 + "2023") == year_2023


def test_date_spans_overlap_when_they_share_a_day() -> None:
    october = date_spans("October 2023")
    assert overlaps(date_spans("31 October 2023"), october)
    assert not overlaps(date_spans("1 November 2023"), october)
    assert overlaps(date_spans("autumn 2023"), october)
    assert not overlaps([], october) and not overlaps(october, [])


# --- the engine -----------------------------------------------------------------------------

FILLER = [
    "I started learning the cello last spring",
    "My sister lives in Porto with her two kids",
    "We adopted a grey cat called Mochi",
    "I prefer trains to planes for trips under six hours",
    "The team retro is every other Thursday",
    "I am training for a half marathon in October",
    "My favourite bakery closes early on Sundays",
    "I switched my phone plan to save money",
    "The garden needs watering twice a week in summer",
    "I usually read science fiction before bed",
    "Our landlord raised the rent by five percent",
    "I keep my passwords in a hardware key",
    "The car is due for an oil change in March",
    "I have a dentist appointment next Tuesday",
    "My manager approved my vacation in August",
    "I bought noise cancelling headphones for the office",
    "The book club is reading Middlemarch this month",
    "I volunteer at the food bank on Saturdays",
    "The printer on the third floor is broken again",
    "I want to learn to make sourdough bread",
]
TICKETS = [
    f"Ticket QX-{code} about the login page is closed"
    for code in ("7713", "1377", "3717", "7137", "1737", "3177", "7317")
]
TARGET = "The quarterly rent invoice for the Lisbon office is filed under reference QX-7731"


async def test_hybrid_finds_a_rare_code_that_dense_search_misses(
    any_backend_config: MemoryConfig,
) -> None:
    async with AsyncMemory(any_backend_config) as memory:
        await memory.add(
            [{"role": "user", "content": t} for t in FILLER + TICKETS + [TARGET]],
            user_id="ops",
            dedup=False,
        )
        query = "Where is QX-7731 filed?"
        dense = (await memory.search(query, user_id="ops", search_mode="dense", limit=3)).results
        hybrid = (await memory.search(query, user_id="ops", limit=3)).results
        # The embedding barely sees the digits: the look-alike ticket codes come first.
        assert TARGET not in [h.memory for h in dense]
        assert dense[0].memory.startswith("Ticket QX-")
        # The keyword side knows "7731" occurs in one memory only.
        assert hybrid[0].memory == TARGET
        assert memory.config.search_mode == "hybrid"  # the default mode is the hybrid one


async def test_hybrid_scores_are_exact_for_every_candidate(config: MemoryConfig) -> None:
    """A memory found by one signal only still gets its true score from the other: the
    fused score equals the formula over a direct cosine and a direct BM25 lookup."""
    async with AsyncMemory(config) as memory:
        await memory.add(
            [{"role": "user", "content": t} for t in FILLER + TICKETS + [TARGET]],
            user_id="ops",
            dedup=False,
        )
        query = "rent for the Lisbon office"
        # limit 2: 20 candidates per signal out of 28 memories, so some candidates come from
        # one signal only; limit 30: every memory is a candidate of both.
        hits = (await memory.search(query, user_id="ops", limit=2)).results
        many = (await memory.search(query, user_id="ops", limit=30)).results
        assert len(many) == 28 and [h.id for h in hits] == [h.id for h in many[:2]]
        # The cosine is the one of the query without its proper nouns.
        assert dense_query(query) == "rent for the office"
        for hit in hits + many:
            cos, bm25 = await _direct_scores(memory, query, hit.id)
            assert hit.score == pytest.approx(convex_score(cos, bm25), abs=1e-6)
            assert 0.0 <= (hit.score or 0.0) <= 1.0


async def _direct_scores(memory: AsyncMemory, query: str, memory_id: str) -> tuple[float, float]:
    """The cosine (of the query without its proper nouns) and the BM25 of one memory,
    each from its own store lookup."""
    only = Condition("id", "eq", memory_id)
    vector = await memory.embedder.embed_query(dense_query(query))
    [cos] = await memory.vector_store.search(vector, filter=only, limit=1)
    kw = await memory.vector_store.search_sparse(memory.keywords.query(query), filter=only, limit=1)
    return cos.score, kw[0].score if kw else 0.0


async def test_hybrid_with_a_stop_word_query_and_threshold(config: MemoryConfig) -> None:
    async with AsyncMemory(config) as memory:
        await memory.add([{"role": "user", "content": t} for t in FILLER], user_id="u")
        # Nothing but stop words: the keyword side is empty, dense still ranks.
        hits = (await memory.search("what is it that I have?", user_id="u", limit=5)).results
        assert len(hits) == 5
        assert all(0.0 <= (h.score or 0.0) <= DENSE_WEIGHT + 1e-9 for h in hits)
        # Threshold applies to the fused score.
        all_hits = (await memory.search("cello lessons", user_id="u", limit=20)).results
        cut = all_hits[0].score or 0.0
        kept = (await memory.search("cello lessons", user_id="u", limit=20, threshold=cut)).results
        assert [h.id for h in kept] == [all_hits[0].id] or all(
            math.isclose(h.score or 0.0, cut) for h in kept[1:]
        )


async def test_a_question_about_a_date_finds_the_memory_from_that_date(
    config: MemoryConfig,
) -> None:
    """Three memories share the question's words; the one dated within the month the
    question names comes first. Without the date signal the plan made in May does."""
    target = "[14 October, 2023] Hiked the ridge trail with Ana, great views"
    plan = "[2 May, 2023] Which trail should I hike in October? Maybe the ridge trail"
    year_before = "[20 October, 2022] Hiked the ridge trail with Ana in the rain"
    async with AsyncMemory(config) as memory:
        await memory.add(
            [{"role": "user", "content": t} for t in FILLER + [plan, target, year_before]],
            user_id="u",
            dedup=False,
        )
        hits = (await memory.search("Which trail did I hike in October 2023?", user_id="u")).results
        assert [h.memory for h in hits[:3]] == [target, plan, year_before]
        # The day a memory was created is one of its dates: these were all written at once.
        created = datetime.fromisoformat(hits[0].created_at)
        query = f"Which trail did I hike on {created:%d %B %Y}?"
        for hit in (await memory.search(query, user_id="u", limit=3)).results:
            cos, bm25 = await _direct_scores(memory, query, hit.id)
            dated = (convex_score(cos, bm25) + DATE_WEIGHT) / (1 + DATE_WEIGHT)
            assert hit.score == pytest.approx(dated, abs=1e-6)


async def test_a_question_naming_a_person_finds_what_that_person_said(
    config: MemoryConfig,
) -> None:
    """Bob's message holds both of the question's content words ("Alice", "relax"); Alice's
    holds neither. What Alice said still comes first: her name is matched to the memory's
    actor, and the query's embedding looks for relaxing, not for Alice."""
    async with AsyncMemory(config) as memory:
        await memory.add([{"role": "user", "content": t} for t in FILLER], user_id="u")
        await memory.add(
            [
                {"role": "user", "name": "Alice", "content": "I swim every morning, it calms me"},
                {"role": "user", "name": "Bob", "content": "Thanks Alice! To relax I read comics"},
            ],
            user_id="u",
            dedup=False,
        )
        hits = (await memory.search("What does Alice do to relax?", user_id="u", limit=2)).results
        assert [h.actor_id for h in hits] == ["Alice", "Bob"]
        assert all(0.0 <= (h.score or 0.0) <= 1.0 for h in hits)
