"""Telling small talk from facts: the last guard of fact extraction.

Small local models copy a greeting or a question into the facts they extract (Qwen2.5-Coder
1.5B stored "Hi! How are you doing today?" as a memory), whatever the prompt says. A "fact"
every sentence of which is a question or only greeting words is dropped here. A sentence
with anything else in it is kept ("Hi, I'm Marie" is a fact, however clumsy), so this never
costs a real fact; turning clumsy facts into good ones is the prompt's job (``prompts.py``).
"""

from __future__ import annotations

import re
import unicodedata

# Greetings, thanks, farewells and fillers in the languages users most often write in
# (accents removed, as ``_words`` removes them).
GREETING_WORDS = frozenset(
    """
    hi hello hey heya hiya howdy yo greetings welcome morning afternoon evening night day
    good great nice fine well ok okay sure cool thanks thank you thx ty cheers please sorry
    bye goodbye see ya later soon take care all everyone everybody there guys folks dear
    how are doing today going it s what up sup whats hows i m am im very too and your that
    for now
    bonjour bonsoir salut coucou merci beaucoup au revoir a bientot bonne journee soiree
    hola buenos buenas dias tardes noches gracias adios hasta luego que tal
    ola oi bom boa tarde noite obrigado obrigada tchau tudo bem
    hallo guten morgen tag abend danke tschuss servus moin
    ciao buongiorno buonasera grazie arrivederci
    """.split()
)
_SENTENCE = re.compile(r"[^.!?;…]+[.!?;…]*")
_WORD = re.compile(r"[a-z]+")


def is_small_talk(fact: str) -> bool:
    """Whether ``fact`` holds nothing but questions and greetings: every sentence ends with
    "?" or consists of greeting words only. Empty text counts as small talk."""
    for sentence in _SENTENCE.findall(fact):
        sentence = sentence.strip()
        if not sentence or sentence.rstrip("!.…").endswith("?"):
            continue
        words = _words(sentence)
        if words and not set(words) <= GREETING_WORDS:
            return False
        if not words and sentence.strip(".!?;… "):
            return False  # digits, symbols or another script: not ours to judge
    return True


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.casefold())
    return _WORD.findall("".join(c for c in plain if not unicodedata.combining(c)))
