"""The trained vectors of the text stand-ins: wordllama's static token vectors, and the graph nodes that read them.

wordllama (MIT, on PyPI; in the course's ``grading`` extra) ships a 32,000 x 256 table of trained static token
vectors for the LLaMA-2 vocabulary and its tokenizer inside its wheel. :func:`token_table` gives every token of
the stand-in WordPiece vocabulary a vector from that table; :func:`static_context` appends the ONNX nodes that
look the vectors up (the table is an initializer of the graph), mix in a little of each neighbour's vector and
project them with :func:`projection`; :func:`content_mask` marks the word-pieces among the tokens.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

__all__ = ["content_mask", "projection", "static_context", "token_table"]

_MIX = 0.25  # weight of each neighbour's vector in a token's contextual vector
_SPECIAL_NORM = 1.0  # length of the fixed vectors of special tokens (function words' are ~1.5, content words' ~15)
_PROJECTION_SEED = {384: 384, 128: 128}


def _wordllama_files() -> tuple[Path, Path]:
    """The two files of wordllama's wheel the stand-ins read: the token vectors and their tokenizer."""
    import importlib.util

    spec = importlib.util.find_spec("wordllama")
    if spec is None or spec.origin is None:
        raise RuntimeError("Building the offline stand-in models needs the wordllama package (its trained token "
                           "vectors), which comes with the course's grading tools: pip install "
                           "'course-utils[grading]'.")
    root = Path(spec.origin).parent
    return root / "weights" / "l2_supercat_256.safetensors", root / "tokenizers" / "l2_supercat_tokenizer_config.json"


@functools.cache
def _wordllama() -> tuple[np.ndarray, object]:
    """wordllama's table of trained static token vectors (32,000 x 256 float32) and its tokenizer.

    Read directly from the wheel's files (``WordLlama.load()`` would try the model hub).
    """
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    weights, tokenizer_file = _wordllama_files()
    table = load_file(str(weights))["embedding.weight"].astype(np.float32)
    config = json.loads(tokenizer_file.read_text(encoding="utf-8"))
    config = config.get("tokenizer_config", config)  # a bare tokenizers config in 0.4.0.post1
    return table, Tokenizer.from_str(json.dumps(config))


def token_table(vocabulary: list[str], first_piece_id: int) -> np.ndarray:
    """One 256-d vector per stand-in token id, from wordllama's trained static token vectors.

    A word-piece's vector is the mean of wordllama's vectors of the pieces wordllama's own (LLaMA-2)
    tokenizer splits it into: a word starts with wordllama's word-start mark, a ``##`` continuation does
    not. The lengths are kept: function words have short vectors (~1.5), content words long ones (~15),
    so means weigh content words more. ``[PAD]`` and ``[MASK]`` get zero vectors (the models compute
    ``[MASK]`` rows from the query), the other special tokens fixed pseudo-random vectors of length 1.

    Args:
        vocabulary: the stand-in tokens in id order (:func:`~course_utils.models.standins.text.build_vocabulary`).
        first_piece_id: ids below it are special tokens.

    Returns:
        float32 array (len(vocabulary), 256).
    """
    vectors, tokenizer = _wordllama()
    table = np.zeros((len(vocabulary), vectors.shape[1]), np.float32)
    rng = np.random.default_rng(256)
    for i, token in enumerate(vocabulary):
        if i < first_piece_id:
            v = rng.standard_normal(vectors.shape[1])
            if token not in ("[PAD]", "[MASK]"):
                table[i] = v / np.linalg.norm(v) * _SPECIAL_NORM
            continue
        piece = token[2:] if token.startswith("##") else "\u2581" + token
        ids = [t.id for t in tokenizer.model.tokenize(piece)]
        table[i] = vectors[ids].mean(axis=0)
    return table


def projection(source_dim: int, dim: int) -> np.ndarray:
    """A fixed orthogonal map (source_dim, dim) from a seeded QR: isometric when dim >= source_dim."""
    rng = np.random.default_rng(_PROJECTION_SEED.get(dim, dim))
    q, r = np.linalg.qr(rng.standard_normal((max(source_dim, dim), min(source_dim, dim))))
    q *= np.sign(np.diag(r))  # unique: independent of the LAPACK build's sign convention
    return (q.T if dim > source_dim else q).astype(np.float32)


def static_context(graph: list, inits: list, table: np.ndarray, mask: str, projection: np.ndarray | None,
                    out: str) -> None:
    """Append nodes: out (b, s, d) = (t_i + MIX * (t_{i-1} + t_{i+1})) @ projection, for the attended tokens.

    ``t`` is the row of ``table`` (float16 initializer, one row per token id) of each input id, set to 0
    where ``mask`` (int64, b x s) is 0, so padding never leaks into its neighbours. The neighbour term
    makes a token's vector depend on its context ("bank" differs in "river bank" and "bank account").
    """
    from onnx import helper, numpy_helper

    p = f"{out}_"
    inits += [numpy_helper.from_array(table.astype(np.float16), p + "table"),
              numpy_helper.from_array(np.array([-1], np.int64), p + "last"),
              numpy_helper.from_array(np.array([0, 1, 0, 0, 0, 0], np.int64), p + "pad_front"),
              numpy_helper.from_array(np.array([0, 0, 0, 0, 1, 0], np.int64), p + "pad_back"),
              numpy_helper.from_array(np.array([0], np.int64), p + "zero"),
              numpy_helper.from_array(np.array([1], np.int64), p + "one"),
              numpy_helper.from_array(np.array([-1], np.int64), p + "minus_one"),
              numpy_helper.from_array(np.array([2**62], np.int64), p + "end"),
              numpy_helper.from_array(np.array(_MIX, np.float32), p + "mix")]
    graph += [
        helper.make_node("Gather", [p + "table", "input_ids"], [p + "t16"], axis=0),
        helper.make_node("Cast", [p + "t16"], [p + "t"], to=1),
        helper.make_node("Cast", [mask], [p + "mf"], to=1),
        helper.make_node("Unsqueeze", [p + "mf", p + "last"], [p + "m3"]),
        helper.make_node("Mul", [p + "t", p + "m3"], [p + "tm"]),
        # previous token: shift right by one along the sequence; next token: shift left by one
        helper.make_node("Pad", [p + "tm", p + "pad_front"], [p + "front"]),
        helper.make_node("Slice", [p + "front", p + "zero", p + "minus_one", p + "one"], [p + "prev"]),
        helper.make_node("Pad", [p + "tm", p + "pad_back"], [p + "back"]),
        helper.make_node("Slice", [p + "back", p + "one", p + "end", p + "one"], [p + "next"]),
        helper.make_node("Add", [p + "prev", p + "next"], [p + "around"]),
        helper.make_node("Mul", [p + "around", p + "mix"], [p + "around_w"]),
        helper.make_node("Add", [p + "tm", p + "around_w"], [out if projection is None else p + "mixed"]),
    ]
    if projection is not None:
        inits.append(numpy_helper.from_array(projection.astype(np.float32), p + "projection"))
        graph.append(helper.make_node("MatMul", [p + "mixed", p + "projection"], [out]))


def content_mask(graph: list, inits: list, mask: str, out: str, first_piece_id: int) -> None:
    """Append nodes: out (int64, b x s) = mask where the token is a word-piece (not [CLS], [SEP], markers...)."""
    from onnx import helper, numpy_helper

    p = f"{out}_"
    inits.append(numpy_helper.from_array(np.array(first_piece_id - 1, np.int64), p + "last_special"))
    graph += [helper.make_node("Greater", ["input_ids", p + "last_special"], [p + "b"]),
              helper.make_node("Cast", [p + "b"], [p + "i"], to=7),
              helper.make_node("Mul", [p + "i", mask], [out])]
