"""Write the stop-word files of fastembed's ``Qdrant/bm25`` model, offline.

fastembed's ``Bm25`` (used by mem0's Qdrant store for its hybrid BM25 search) loads the hub
repo ``Qdrant/bm25``: an empty ``config.json`` (its "model file") and one ``<language>.txt``
stop-word list per supported language; fastembed 0.9 rejects a cached snapshot unless every
listed file is there. The hub's lists are NLTK's stop-word corpus. The hub is unreachable here,
so we rebuild them from two PyPI packages:

* ``qdrant-edge-py`` (Qdrant's own engine, already a dependency of our project) embeds Qdrant's
  built-in stop-word lists, which are NLTK's, and answers "is this word a stop word in
  language X" through its ``Bm25`` model: a document made of one stop word embeds to an empty
  sparse vector.
* ``stop-words`` (python-stop-words, BSD-3) supplies candidate words per language; for English
  the NLTK list itself (as written below) is added to the candidates.

A word is written to ``<language>.txt`` only if Qdrant's list confirms it, so nothing foreign
gets in. English comes out as the full NLTK list; for the other languages the file holds the
NLTK words that python-stop-words also lists (our benchmarks are English-only; those files
only need to exist). fastembed strips apostrophes before matching, so only apostrophe-free
entries can ever match; the NLTK contractions are kept for fidelity when Qdrant confirms all
their parts.

Run with a Python that can import ``qdrant_edge`` and ``stop_words``:
    python bm25_stopwords.py OUT_DIR
Prints a JSON summary (word counts per language) on stdout.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

# fastembed 0.9.1 fastembed/sparse/bm25.py: supported_languages minus tamil (no file on the hub).
LANGUAGES = (
    "arabic",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "spanish",
    "swedish",
    "turkish",
)

# NLTK's English stop-word list (nltk_data corpora/stopwords/english), in its own order.
NLTK_ENGLISH = """
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
yourselves he him his himself she she's her hers herself it it's its itself they them their
theirs themselves what which who whom this that that'll these those am is are was were be been
being have has had having do does did doing a an the and but if or because as until while of
at by for with about against between into through during before after above below to from up
down in out on off over under again further then once here there when where why how all any
both each few more most other some such no nor not only own same so than too very s t can will
just don don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn
didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn
mustn't needn needn't shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn
wouldn't
""".split()


def _candidates(language: str) -> list[str]:
    import stop_words

    words: list[str] = []
    if language == "english":
        words.extend(NLTK_ENGLISH)
    path = Path(os.path.dirname(stop_words.__file__)) / "stop-words" / f"{language}.txt"
    if path.is_file():
        words.extend(w.strip().lower() for w in path.read_text(encoding="utf-8").splitlines())
    seen: set[str] = set()
    out = []
    for w in words:
        if w and w not in seen:
            seen.add(w)
            out.append(w)
    return out


def build(out_dir: Path) -> dict[str, int]:
    import qdrant_edge

    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for language in LANGUAGES:
        model = qdrant_edge.Bm25(qdrant_edge.Bm25Config(language=language))
        confirmed = []
        for word in _candidates(language):
            if not re.fullmatch(r"\w+", word) and word not in NLTK_ENGLISH:
                continue  # phrases, hyphens, contractions not in NLTK's list
            if len(model.embed_document(word).indices) == 0:
                confirmed.append(word)
        (out_dir / f"{language}.txt").write_text("\n".join(confirmed) + "\n", encoding="utf-8")
        counts[language] = len(confirmed)
    # The hub's config.json is empty; fastembed only checks that it exists.
    (out_dir / "config.json").write_text("{}\n", encoding="utf-8")
    missing = [
        w
        for w in NLTK_ENGLISH
        if "'" not in w and w not in (out_dir / "english.txt").read_text(encoding="utf-8").split()
    ]
    if missing:
        raise SystemExit(f"Qdrant's English stop words disagree with NLTK's on {missing}")
    return counts


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(json.dumps(build(Path(sys.argv[1]))))
