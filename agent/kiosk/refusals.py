"""A platform refusal told to the guest only when it names nobody else.

Mews answers a refused start or process (403) with a text meant for staff, and that
text may name people: "The bill of Anna Walker is not settled" reaches a guest at
the screen who may not be Anna Walker (a shared booking, a stranger). The kiosk shows
the platform's words only when they hold no name-like word other than the guest's own
and no e-mail address or long number; otherwise a catalog message, and the platform's
text goes to staff in the task, never to the screen or the log.
"""

from __future__ import annotations

import re

from agent.kiosk.session import End, refused

_WORD = re.compile(r"[^\W\d_][\w'’\-]*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;]\s*$")
_LONG_NUMBER = re.compile(r"\d[\d \-]{5,}\d")


def names_someone(text: str, own_names: tuple[str | None, ...]) -> bool:
    """True when ``text`` may name a person other than the guest (capitalised mid-sentence word, e-mail, number)."""
    if "@" in text or _LONG_NUMBER.search(text):
        return True
    own = {n.casefold() for name in own_names if name for n in _WORD.findall(name)}
    for match in _WORD.finditer(text):
        word = match.group()
        before = text[:match.start()]
        starts_sentence = not before.strip() or bool(_SENTENCE_END.search(before))
        if starts_sentence or not word[0].isupper() or word.isupper() or word.casefold() in own:
            continue
        return True
    return False


def platform_refusal(text: str, own_names: tuple[str | None, ...], what: str, described: str) -> End:
    """The End for a business-rule refusal: the platform's text on screen only when it names nobody else."""
    text = " ".join((text or "").split())
    if text and not names_someone(text, own_names):
        return refused("refused.platform_rule", {"text": text}, task=f"{what} refused by Mews", why=described)
    return refused("refused.platform_withheld", task=f"{what} refused by Mews",
                   why="Forbidden (the platform's text names another person: sent to staff only)",
                   detail=f"Mews said: {text}" if text else described)
