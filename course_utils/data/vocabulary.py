"""Content words: what a query and a passage must share for a lexical method (BM25) to match them.

The steps are those of fastembed's ``Bm25`` (``Qdrant/bm25``) and of Qdrant's own English text
pipeline: lowercase, split on every character that is not a letter, digit or underscore, drop
the English stop words (:data:`ENGLISH_STOPWORDS`), and stem each word with the Snowball English
stemmer (``py_rust_stemmers``, installed with fastembed). Two texts that share no content word
get a BM25 score of exactly 0 for each other.

This is the one definition of the corpus's query subsets (``subset`` in ``queries.jsonl``):

- ``"mismatch"``: the query shares no content word with any of its relevant passages (grade >= 1);
- ``"lexical"``: it shares at least one with at least one of them.

>>> sorted(content_words("Jaguars hunt in the rainforest"))
['hunt', 'jaguar', 'rainforest']
>>> subset_of("how to pay less for plane tickets", ["Airfares tend to climb before departure."])
'mismatch'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

__all__ = ["ENGLISH_STOPWORDS", "content_words", "shared_content_words", "subset_of"]

#: NLTK's English stop-word list, in its own order (179 words), as in ``english.txt`` of ``Qdrant/bm25``
#: and ``ENGLISH_STOPWORDS`` of Qdrant's ``lib/segment/.../stop_words/english.rs``.
ENGLISH_STOPWORDS = tuple("""
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him
his himself she she's her hers herself it it's its itself they them their theirs themselves what which who
whom this that that'll these those am is are was were be been being have has had having do does did doing a
an the and but if or because as until while of at by for with about against between into through during
before after above below to from up down in out on off over under again further then once here there when
where why how all any both each few more most other some such no nor not only own same so than too very s t
can will just don don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't
doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't
shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't
""".split())

_STOPWORDS = frozenset(ENGLISH_STOPWORDS)
_WORD = re.compile(r"\w+")


@functools.cache
def _stemmer():
    from py_rust_stemmers import SnowballStemmer

    return SnowballStemmer("english")


def content_words(text: str) -> frozenset[str]:
    """The stemmed content words of ``text``: lowercased, stop words dropped, Snowball-stemmed.

    Raises:
        TypeError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    stemmer = _stemmer()
    return frozenset(stemmer.stem_word(word) for word in _WORD.findall(text.lower()) if word not in _STOPWORDS)


def shared_content_words(query: str, passage: str) -> frozenset[str]:
    """The stemmed content words that ``query`` and ``passage`` have in common."""
    return content_words(query) & content_words(passage)


def subset_of(query: str, relevant_passages: Iterable[str]) -> str:
    """``"mismatch"`` if ``query`` shares no content word with any of ``relevant_passages``, else ``"lexical"``.

    Args:
        query: the query text.
        relevant_passages: the texts of the query's relevant passages (grade >= 1); at least one.

    Raises:
        ValueError: ``relevant_passages`` is empty (every course query has a relevant passage).
    """
    passages = list(relevant_passages)
    if not passages:
        raise ValueError("relevant_passages is empty: give the texts of the query's relevant passages (grade >= 1)")
    words = content_words(query)
    return "lexical" if any(words & content_words(passage) for passage in passages) else "mismatch"
