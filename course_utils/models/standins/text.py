"""Tiny offline stand-ins for the course's three models, for tests and grading.

The machines that test and grade this course cannot reach the model hub. These
stand-ins let fastembed run its *real* code paths (tokenizer, ONNX runtime,
pooling, ColBERT markers and [MASK] padding, reranking) on models that are built
in well under a second:

- ``BAAI/bge-small-en-v1.5`` (dense): one 384-d vector per text, the mean of
  hashed token vectors; fastembed takes the first row and normalises it.
- ``colbert-ir/colbertv2.0`` (late interaction): one 128-d unit vector per token,
  a hashed token vector plus a little of the text's mean (so "bank" differs
  between "river bank" and "bank account") and of its position.
- ``Xenova/ms-marco-MiniLM-L-6-v2`` (cross-encoder): one logit per
  (query, passage) pair, from the overlap of the two halves' hashed tokens.

Their numbers mean nothing beyond "shared words score higher": graded tests
never depend on them. Token vectors are computed inside the graph by an integer
hash of the token id, so each model is a few kilobytes of ONNX.

The files are laid out as the Hugging Face cache that fastembed reads
(``models--<org>--<repo>/snapshots/<rev>/`` plus ``refs/main``) for the
repositories that fastembed's model descriptions name. They are only ever built
into a temporary directory, never into a user's model cache: see
:func:`standin_models`.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from course_utils import models
from course_utils.models.standins.snapshot import MARKER_FILE, snapshot_folder

__all__ = ["build_vocabulary", "write_text_standins"]


_PRIME = 2_147_483_647  # 2**31 - 1: hash values stay below 2**62 when squared
_OPSET = 18
_IR_VERSION = 8  # readable by older onnxruntime releases too
_SPECIAL = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_MAX_LENGTH = 512

# Words every stand-in vocabulary knows, besides those of the course's data files.
_BASE_WORDS = """
the a an and or not of to in on at by for with from as is are was were be been it its this that
these those what which who whom whose where when why how do does did can could should would will
may might must i you he she we they me him her us them my your our their there here than then so
if but about into over under after before between through during without within all any each
every some many much more most few less least one two three four five ten first last new old good
bad best better high low long short big small large same other such only also very just still
qdrant vector vectors database databases semantic search engine engines relational ai native
well suited query queries document documents token tokens embedding embeddings model models
late early interaction dense sparse multi single score scores similarity dot product cosine
maxsim colbert bert cross encoder encoders rerank reranking pooling mean max sum matrix
river bank banks financial money account loan interest water flow fish boat apple apples fruit
pie tree orchard computer computers phone company laptop macbook makes python snake java coffee
island jaguar car cat mercury planet element metal god spring bass crane cell rust shell cookie
bug language programming code list function
""".split()


def _words_from_course_data() -> list[str]:
    """Lower-cased words of the course's example texts, passages and queries."""
    from course_utils import data

    words = re.findall(r"[a-z0-9]+", " ".join([data.EXAMPLE_QUERY, *data.EXAMPLE_DOCUMENTS,
                                                *data.BANK_SENTENCES]).lower())
    data_dir = Path(__file__).with_name("data")
    for name in ("passages.jsonl", "queries.jsonl"):
        path = data_dir / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    words.extend(re.findall(r"[a-z0-9]+", json.loads(line)["text"].lower()))
    return words


def build_vocabulary(extra_words: Iterable[str] = ()) -> list[str]:
    """The stand-in WordPiece vocabulary, in id order.

    Ids 0-103 follow BERT's layout ([PAD]=0, [unused0]=1 and [unused1]=2, the
    ColBERT query and document markers, [UNK]=100, [CLS]=101, [SEP]=102,
    [MASK]=103), then punctuation, single characters and their ``##``
    continuations (so any word can be spelled out), then whole words.

    Returns:
        list of str, unique, ``vocabulary[i]`` is the token of id ``i``.
    """
    chars = list(string.ascii_lowercase + string.digits)
    pieces = list(string.punctuation) + chars + ["##" + c for c in chars]
    words = sorted(set(_BASE_WORDS) | set(_words_from_course_data()) | {w.lower() for w in extra_words})
    vocabulary = _SPECIAL + pieces
    known = set(vocabulary)
    vocabulary += [w for w in words if w not in known]
    return vocabulary


def _tokenizer_json(vocabulary: list[str]) -> str:
    """A BERT-style WordPiece tokenizer (lower-casing, [CLS] ... [SEP] template)."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    vocab = {token: i for i, token in enumerate(vocabulary)}
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tokenizer.enable_truncation(max_length=_MAX_LENGTH)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer.to_str()


def _hashed_vectors(graph: list, inits: list, ids: str, dim: int, seed: int, out: str) -> None:
    """Append nodes mapping int64 ids (b, s) to floats in [-1, 1] of shape (b, s, dim).

    value[b, s, j] = 2 * h / P - 1 with h = ((id * a_j + c_j) mod P)^2 + e_j mod P,
    for per-dimension random constants a, c, e: a deterministic, pseudo-random
    vector per id, computed in the graph instead of stored.
    """
    from onnx import helper, numpy_helper

    rng = np.random.RandomState(seed)
    a, c, e = (rng.randint(1, _PRIME, size=dim).astype(np.int64) for _ in range(3))
    p = f"{out}_"
    for name, value in [("a", a), ("c", c), ("e", e), ("prime", np.array(_PRIME, np.int64)),
                        ("axis", np.array([-1], np.int64)),
                        ("scale", np.array(2.0 / _PRIME, np.float32)), ("one", np.array(1.0, np.float32))]:
        inits.append(numpy_helper.from_array(value, p + name))
    graph += [
        helper.make_node("Unsqueeze", [ids, p + "axis"], [p + "ids3"]),
        helper.make_node("Mul", [p + "ids3", p + "a"], [p + "m1"]),
        helper.make_node("Add", [p + "m1", p + "c"], [p + "m2"]),
        helper.make_node("Mod", [p + "m2", p + "prime"], [p + "h1"]),
        helper.make_node("Mul", [p + "h1", p + "h1"], [p + "sq"]),
        helper.make_node("Add", [p + "sq", p + "e"], [p + "m3"]),
        helper.make_node("Mod", [p + "m3", p + "prime"], [p + "h2"]),
        helper.make_node("Cast", [p + "h2"], [p + "hf"], to=1),
        helper.make_node("Mul", [p + "hf", p + "scale"], [p + "u"]),
        helper.make_node("Sub", [p + "u", p + "one"], [out]),
    ]


def _masked_mean(graph: list, inits: list, values: str, mask: str, out: str) -> None:
    """Append nodes: out (b, 1, d) = sum_s values * mask / sum_s mask, mask int64 (b, s)."""
    from onnx import helper, numpy_helper

    p = f"{out}_"
    inits += [numpy_helper.from_array(np.array([-1], np.int64), p + "last"),
              numpy_helper.from_array(np.array([1], np.int64), p + "seq"),
              numpy_helper.from_array(np.array(1e-9, np.float32), p + "eps")]
    graph += [
        helper.make_node("Cast", [mask], [p + "mf"], to=1),
        helper.make_node("Unsqueeze", [p + "mf", p + "last"], [p + "m3"]),
        helper.make_node("Mul", [values, p + "m3"], [p + "vm"]),
        helper.make_node("ReduceSum", [p + "vm", p + "seq"], [p + "num"], keepdims=1),
        helper.make_node("ReduceSum", [p + "m3", p + "seq"], [p + "den0"], keepdims=1),
        helper.make_node("Add", [p + "den0", p + "eps"], [p + "den"]),
        helper.make_node("Div", [p + "num", p + "den"], [out]),
    ]


def _l2_normalise(graph: list, inits: list, values: str, out: str) -> None:
    """Append nodes: out = values / ||values|| along the last axis."""
    from onnx import helper, numpy_helper

    p = f"{out}_"
    inits += [numpy_helper.from_array(np.array([-1], np.int64), p + "last"),
              numpy_helper.from_array(np.array(1e-12, np.float32), p + "eps")]
    graph += [
        helper.make_node("ReduceL2", [values, p + "last"], [p + "n0"], keepdims=1),
        helper.make_node("Add", [p + "n0", p + "eps"], [p + "n"]),
        helper.make_node("Div", [values, p + "n"], [out]),
    ]


def _save_model(graph: list, inits: list, inputs: list[str], output: tuple[str, list], path: Path) -> None:
    from onnx import TensorProto, checker, helper

    int_inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in inputs]
    out_info = helper.make_tensor_value_info(output[0], TensorProto.FLOAT, output[1])
    g = helper.make_graph(graph, path.stem, int_inputs, [out_info], initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", _OPSET)],
                              producer_name="course_utils.models.standins", ir_version=_IR_VERSION)
    checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())


def _dense_model(path: Path, dim: int = 384) -> None:
    """input_ids, attention_mask, token_type_ids -> last_hidden_state (b, s, dim).

    Every row holds the masked mean of the hashed token vectors ("CLS pooling"
    of fastembed then reads row 0). token_type_ids is declared, as in BERT
    exports, and folded in with weight 0 so that no input is unused.
    """
    from onnx import helper, numpy_helper

    graph: list = []
    inits: list = [numpy_helper.from_array(np.array(0, np.int64), "zero")]
    graph += [helper.make_node("Mul", ["token_type_ids", "zero"], ["tt0"]),
              helper.make_node("Add", ["input_ids", "tt0"], ["ids"])]
    _hashed_vectors(graph, inits, "ids", dim, seed=384, out="tok")
    _masked_mean(graph, inits, "tok", "attention_mask", "pooled")
    graph += [helper.make_node("Shape", ["tok"], ["tok_shape"]),
              helper.make_node("Expand", ["pooled", "tok_shape"], ["last_hidden_state"])]
    _save_model(graph, inits, ["input_ids", "attention_mask", "token_type_ids"],
                ("last_hidden_state", ["batch", "sequence", dim]), path)


def _colbert_model(path: Path, dim: int = 128) -> None:
    """input_ids, attention_mask -> (b, s, dim) unit-length token vectors.

    vector = normalise(hash(token) + 1.5 * mean of hash2(tokens of the text)
    + 0.15 * hash3(position)). The text mean makes vectors contextual; the
    position term keeps the [MASK] padding rows of a query distinct.
    """
    from onnx import helper, numpy_helper

    graph: list = []
    inits: list = [numpy_helper.from_array(np.array(1.5, np.float32), "w_context"),
                   numpy_helper.from_array(np.array(0.15, np.float32), "w_position"),
                   numpy_helper.from_array(np.array(1, np.int64), "seq_axis"),
                   numpy_helper.from_array(np.array(1_000_003, np.int64), "pos_offset")]
    _hashed_vectors(graph, inits, "input_ids", dim, seed=128, out="tok")
    _hashed_vectors(graph, inits, "input_ids", dim, seed=129, out="ctx_tok")
    _masked_mean(graph, inits, "ctx_tok", "attention_mask", "ctx")
    graph += [helper.make_node("Shape", ["input_ids"], ["ids_shape"]),
              helper.make_node("ConstantOfShape", ["ids_shape"], ["ones"],
                               value=numpy_helper.from_array(np.array([1], np.int64))),
              helper.make_node("CumSum", ["ones", "seq_axis"], ["pos1"]),
              helper.make_node("Add", ["pos1", "pos_offset"], ["pos"])]
    _hashed_vectors(graph, inits, "pos", dim, seed=130, out="posv")
    graph += [helper.make_node("Mul", ["ctx", "w_context"], ["ctx_w"]),
              helper.make_node("Mul", ["posv", "w_position"], ["pos_w"]),
              helper.make_node("Add", ["tok", "ctx_w"], ["s1"]),
              helper.make_node("Add", ["s1", "pos_w"], ["s2"])]
    _l2_normalise(graph, inits, "s2", "token_vectors")
    _save_model(graph, inits, ["input_ids", "attention_mask"],
                ("token_vectors", ["batch", "sequence", dim]), path)


def _cross_encoder_model(path: Path, dim: int = 64) -> None:
    """input_ids, attention_mask, token_type_ids -> logits (b, 1).

    logit = 20 * cos(mean of the query half, mean of the passage half) - 8,
    over hashed token vectors: word overlap raises the logit.
    """
    from onnx import helper, numpy_helper

    graph: list = []
    inits: list = [numpy_helper.from_array(np.array(1, np.int64), "one_i"),
                   numpy_helper.from_array(np.array(20.0, np.float32), "gain"),
                   numpy_helper.from_array(np.array(8.0, np.float32), "bias"),
                   numpy_helper.from_array(np.array([-1], np.int64), "last_axis")]
    _hashed_vectors(graph, inits, "input_ids", dim, seed=64, out="tok")
    graph += [helper.make_node("Sub", ["one_i", "token_type_ids"], ["not_b"]),
              helper.make_node("Mul", ["attention_mask", "not_b"], ["mask_a"]),
              helper.make_node("Mul", ["attention_mask", "token_type_ids"], ["mask_b"])]
    _masked_mean(graph, inits, "tok", "mask_a", "mean_a")
    _masked_mean(graph, inits, "tok", "mask_b", "mean_b")
    _l2_normalise(graph, inits, "mean_a", "unit_a")
    _l2_normalise(graph, inits, "mean_b", "unit_b")
    graph += [helper.make_node("Mul", ["unit_a", "unit_b"], ["ab"]),
              helper.make_node("ReduceSum", ["ab", "last_axis"], ["cos3"], keepdims=0),
              helper.make_node("Mul", ["cos3", "gain"], ["scaled"]),
              helper.make_node("Sub", ["scaled", "bias"], ["logits"])]
    _save_model(graph, inits, ["input_ids", "attention_mask", "token_type_ids"],
                ("logits", ["batch", 1]), path)


_BUILDERS = {
    models.DENSE_MODEL: _dense_model,
    models.LATE_INTERACTION_MODEL: _colbert_model,
    models.CROSS_ENCODER_MODEL: _cross_encoder_model,
}


def _write_snapshot(cache_dir: Path, model_name: str, tokenizer_json: str) -> Path:
    """Write one model's snapshot into the Hugging Face cache layout; return its folder."""
    repo, model_file = models.hub_files(model_name)
    snapshot = snapshot_folder(cache_dir, repo)
    _BUILDERS[model_name](snapshot / model_file)
    (snapshot / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    (snapshot / "tokenizer_config.json").write_text(json.dumps({
        "model_max_length": _MAX_LENGTH, "do_lower_case": True, "pad_token": "[PAD]",
        "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]",
        "tokenizer_class": "BertTokenizer"}, indent=1))
    (snapshot / "special_tokens_map.json").write_text(json.dumps({
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
        "mask_token": "[MASK]"}, indent=1))
    (snapshot / "config.json").write_text(json.dumps({
        "model_type": "bert", "pad_token_id": 0, "course_standin": True}, indent=1))
    (snapshot / MARKER_FILE).write_text(
        f"Offline stand-in for {model_name}, built by course_utils.models.standins for tests and grading.\n"
        "Its outputs have the real shapes but mean nothing. Never copy it into a real model cache.\n")
    return snapshot


def write_text_standins(cache: Path, extra_words: Iterable[str] = ()) -> None:
    """Write the three text stand-ins into ``cache`` (after the checks of ``standins.build_standin_cache``)."""
    tokenizer_json = _tokenizer_json(build_vocabulary(extra_words))
    for model_name in models.ALL_MODELS:
        _write_snapshot(cache, model_name, tokenizer_json)
