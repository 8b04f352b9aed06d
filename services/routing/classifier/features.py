"""What the classifier sees of a text: pure functions from a message to its terms."""

from __future__ import annotations

import re
import unicodedata
from operator import add

# Runs of Han characters, and of Latin letters or digits; punctuation and spaces split them.
_RUNS = re.compile(r"[\u3400-\u9fff]+|[a-z0-9]+")
# Anonymised place names ("A市", "D12市") and numbers say nothing about a department.
_DIGITS = re.compile(r"[0-9]+")


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, every number the same digit."""
    return _DIGITS.sub("0", unicodedata.normalize("NFKC", text).lower())


def terms(text: str) -> list[str]:
    """Character unigrams and bigrams within each run of Han characters, and Latin words.

    Bigrams cover most two-character words (学校, 工资, 噪音) without a segmenter's dictionary,
    which would miss the county's own names; unigrams keep what a bigram splits.
    """
    found: list[str] = []
    for run in _RUNS.findall(normalise(text)):
        if not "\u3400" <= run[0] <= "\u9fff":
            found.append(run)
            continue
        found.extend(run)
        found.extend(map(add, run, run[1:]))
    return found
