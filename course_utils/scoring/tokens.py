"""Token labels that line up row for row with fastembed's ColBERT vectors.

fastembed's ColBERT does three things to the tokenizer's output before the
model runs, so ``tokenize()`` alone gives the wrong labels:

1. it inserts a marker token at position 1, after [CLS]: id 1 (``[unused0]``,
   shown here as ``[Q]``) for queries, id 2 (``[unused1]``, shown as ``[D]``)
   for documents;
2. it pads every query with ``[MASK]`` to 32 vectors (query augmentation);
3. it drops the vectors of punctuation tokens (and padding) from documents.

:func:`token_labels` applies the same three steps with the model's own
tokenizer and settings, so ``len(token_labels(model, text, "query"))`` equals
the number of rows ``model.query_embed(text)`` yields, and label ``i`` names row ``i``.
"""

from __future__ import annotations

__all__ = ["DOCUMENT_MARKER", "QUERY_MARKER", "token_ids", "token_labels", "tokenizer_tokens"]

QUERY_MARKER = "[Q]"
DOCUMENT_MARKER = "[D]"


def _colbert(model):
    """The fastembed Colbert object inside ``model``, with its tokenizers loaded."""
    inner = getattr(model, "model", model)
    needed = ("QUERY_MARKER_TOKEN_ID", "DOCUMENT_MARKER_TOKEN_ID", "tokenize")
    if not all(hasattr(inner, name) for name in needed):
        raise TypeError(f"model must be a fastembed LateInteractionTextEmbedding (ColBERT), "
                        f"got {type(model).__name__}")
    inner._ensure_tokenizer()
    return inner


def token_ids(model, text: str, kind: str = "document") -> list[int]:
    """Token ids of ``text`` exactly as ``model`` embeds them, one per output vector.

    Args:
        model: a fastembed ``LateInteractionTextEmbedding``.
        text: one query or one document.
        kind: ``"query"`` (as ``query_embed``) or ``"document"`` (as ``passage_embed``).

    Returns:
        list of int, ``len`` = number of vectors fastembed returns for ``text``.
    """
    if kind not in ("query", "document"):
        raise ValueError(f"kind must be 'query' or 'document', got {kind!r}")
    if not isinstance(text, str):
        raise TypeError(f"text must be one string, got {type(text).__name__}")
    colbert = _colbert(model)
    is_doc = kind == "document"
    ids = list(colbert.tokenize([text], is_doc=is_doc)[0].ids)
    marker = colbert.DOCUMENT_MARKER_TOKEN_ID if is_doc else colbert.QUERY_MARKER_TOKEN_ID
    ids.insert(1, marker)
    if is_doc:
        dropped = set(colbert.skip_list) | {colbert.pad_token_id}
        ids = [ids[0], marker] + [i for i in ids[2:] if i not in dropped]
    return ids


def tokenizer_tokens(model, text: str) -> list[str]:
    """The plain tokenizer's tokens of ``text``, before ColBERT's own steps.

    ``[CLS]``, the word pieces and ``[SEP]``: no marker, no ``[MASK]`` padding,
    punctuation kept (fastembed's tokenizer cuts a text at 511 tokens, leaving room
    for the marker). Lesson 1's exercise turns these into :func:`token_labels`.

    Returns:
        list of str, one per token.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be one string, got {type(text).__name__}")
    return list(_colbert(model).tokenizer.encode(text).tokens)


def token_labels(model, text: str, kind: str = "document") -> list[str]:
    """Readable labels of the vectors ``model`` returns for ``text``, row for row.

    Markers are shown as ``[Q]`` and ``[D]``, query padding as ``[MASK]``.

    Example:
        ``token_labels(colbert, "What is Qdrant?", "query")[:4]`` might be
        ``['[CLS]', '[Q]', 'what', 'is']`` (the pieces depend on the vocabulary).
    """
    colbert = _colbert(model)
    ids = token_ids(model, text, kind)
    tokenizer = colbert.tokenizer
    names = {colbert.QUERY_MARKER_TOKEN_ID: QUERY_MARKER, colbert.DOCUMENT_MARKER_TOKEN_ID: DOCUMENT_MARKER}
    labels = []
    for position, token_id in enumerate(ids):
        if position == 1 and token_id in names:
            labels.append(names[token_id])
        else:
            labels.append(tokenizer.id_to_token(token_id))
    return labels
