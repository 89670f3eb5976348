"""Calendar dates written in text, as day intervals: what a query or a memory is dated.

``date_spans("What did Dave do in October 2023?")`` → ``[(2023-10-01, 2023-10-31)]``.
Understood, in English: ISO dates (``2023-10-29``), a day with a month and a year in either
order (``29 October, 2023``, ``Oct 29th 2023``, ``the 29th of October 2023``), a month and a
year (``October 2023``), a season and a year (``summer 2023``, northern hemisphere: June to
August; winter runs from December into the next year) and a year alone (``in 2023``). A
phrase that narrows a month (``the first weekend of October 2023``) counts as the whole month.

Left out on purpose: dates without a year (``June``, ``May 3``: which year is a guess; read
as "that month of any year" they changed nothing on LoCoMo, docs/benchmarks.md) and relative
ones (``yesterday``, ``last week``: relative to when? A question's "last week" and a
memory's differ, and LoCoMo cannot measure them).

~5 µs for a 200-character memory (LoCoMo's turns), ~1 µs for text without a year. Hand-written
rather than ``dateparser`` or ``datefinder``: those return instants, not how much of the date
was given (a month must cover the month), and ``dateparser``'s search takes milliseconds.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

Span = tuple[date, date]  # first and last day, both included

_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DAY = r"[0-3]?\d(?:st|nd|rd|th)?"
# Every date understood holds a year: find the years, then read what precedes (or, for ISO,
# follows) each one. A single pattern tried at every position of the text took 55 µs a memory;
# this takes ~5 µs (LoCoMo's turns). The start of a year is checked by hand and the window read
# lower-cased: a look-behind and IGNORECASE each cost more than the rest of the work.
_YEAR = re.compile(r"(?:19|20)\d\d(?!\w)")
_ISO_TAIL = re.compile(r"-([01]\d)-([0-3]\d)\b")
_BEFORE_YEAR = re.compile(
    rf"""\b(?:
        (?P<dmy_d>{_DAY})\s+(?:of\s+)?(?P<dmy_m>{_MONTH})\.?,?
      | (?P<mdy_m>{_MONTH})\.?\s+(?P<mdy_d>{_DAY}),?
      | (?P<my_m>{_MONTH})\.?,?(?:\s+of)?
      | (?P<season>spring|summer|autumn|fall|winter)(?:\s+of)?
    )\s+\Z""",
    re.VERBOSE,
)
_LOOK_BACK = 24  # characters: "29th of September, " and some spare
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
# First month and how many months each season covers.
_SEASONS = {"spring": (3, 3), "summer": (6, 3), "autumn": (9, 3), "fall": (9, 3), "winter": (12, 3)}


def date_spans(text: str) -> list[Span]:
    """Every date written in ``text`` (see the module docstring), in order of appearance;
    an impossible date (``31 February 2023``) is skipped."""
    spans = []
    for found in _YEAR.finditer(text):
        if _in_word(text, found.start()):
            continue
        try:
            spans.append(_span(text, found))
        except ValueError:
            continue
    return spans


def overlaps(spans: list[Span], wanted: list[Span]) -> bool:
    """Whether any span in ``spans`` shares a day with any span in ``wanted``."""
    return any(a <= end and b >= start for a, b in spans for start, end in wanted)


def _span(text: str, found: re.Match[str]) -> Span:
    year = int(found.group())
    if iso := _ISO_TAIL.match(text, found.end()):
        day = date(year, int(iso.group(1)), int(iso.group(2)))
        return day, day
    lo = max(0, found.start() - _LOOK_BACK)
    before = _BEFORE_YEAR.search(text[lo : found.start()].lower())
    if before and before.start() == 0 and _in_word(text, lo):
        before = None  # the window cut a word in two: "…xmay 2023" is not May
    g = before.groupdict() if before else {}
    for p in ("dmy", "mdy"):
        if g.get(f"{p}_d"):
            day = date(year, _month(g[f"{p}_m"]), int(g[f"{p}_d"].rstrip("stndrh")))
            return day, day
    if g.get("my_m"):
        return _months(year, _month(g["my_m"]), 1)
    if g.get("season"):
        first, count = _SEASONS[g["season"]]
        return _months(year, first, count)
    return date(year, 1, 1), date(year, 12, 31)


def _in_word(text: str, i: int) -> bool:
    """Whether position ``i`` continues a word (the character before it is a word's)."""
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")


def _month(name: str) -> int:
    return _MONTHS[name[:3]]


def _months(year: int, first: int, count: int) -> Span:
    """From the first day of month ``first`` of ``year`` to the last day ``count`` months on."""
    last_year, last_month = divmod(year * 12 + first + count - 2, 12)
    last_month += 1
    end = date(last_year, last_month, calendar.monthrange(last_year, last_month)[1])
    return date(year, first, 1), end
