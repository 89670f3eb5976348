"""The progress bar export and import draw on stderr."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm


@contextmanager
def progress_bar(total: int, progress: bool | None, desc: str | None = None) -> Iterator[tqdm[Any]]:
    """A tqdm bar of ``total`` rows on stderr, closed on exit. ``progress``: ``None`` draws it
    only on a terminal, ``False`` never, ``True`` always."""
    disable = None if progress is None else not progress
    bar = tqdm(total=total, desc=desc, unit="rows", unit_scale=True, disable=disable, leave=False)
    try:
        yield bar
    finally:
        bar.close()
