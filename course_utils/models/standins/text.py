"""Small offline stand-ins for the course's three text models, for tests, grading and the offline preview.

The machines that test and grade this course cannot reach the model hub. These
stand-ins let fastembed run its *real* code paths (tokenizer, ONNX runtime,
pooling, ColBERT markers and [MASK] padding, reranking) on models built in a
few seconds. Their token vectors come from a real trained model that ships in a
PyPI wheel: wordllama's static token vectors (32,000 x 256, LLaMA-2 vocabulary).
Each word-piece of the stand-in vocabulary gets the mean of wordllama's vectors of
the pieces wordllama's tokenizer splits it into (:mod:`~course_utils.models.standins.static_vectors`); inside each
graph a token's vector gets a quarter of each neighbour's added (so "bank" differs
between "river bank" and "bank account"):

- ``BAAI/bge-small-en-v1.5`` (dense): every row holds the masked mean of the
  token vectors, mapped to 384-d by a fixed orthogonal matrix; fastembed takes
  the first row and normalises it.
- ``colbert-ir/colbertv2.0`` (late interaction): one 128-d unit vector per token
  (a fixed orthogonal projection); a ``[MASK]`` row of a query is the mean of the
  query's word-piece rows (plus a tiny position term), so it carries the query's
  meaning as real ColBERT's do.
- ``Xenova/ms-marco-MiniLM-L-6-v2`` (cross-encoder): one logit per
  (query, passage) pair, a linear function of a MaxSim-style match between the
  two halves' token vectors.

Their scores carry real signal, far weaker than the real models' (static vectors,
no attention): related words score above unrelated ones and the course corpus
ranks well above chance. Graded tests still never depend on them. The embedding
tables are initializers of the graphs (float16), so fastembed's code path is the
one of a real model.

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
from course_utils.models.standins.static_vectors import content_mask, projection, static_context, token_table

__all__ = ["build_vocabulary", "write_text_standins"]


_PRIME = 2_147_483_647  # 2**31 - 1: hash values stay below 2**62 when squared
_OPSET = 18
_IR_VERSION = 8  # readable by older onnxruntime releases too
_SPECIAL = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_MAX_LENGTH = 512
_MASK_ID = _SPECIAL.index("[MASK]")  # 103, as in BERT
_FIRST_PIECE_ID = len(_SPECIAL)  # ids below are special tokens; from here on word-pieces
_MASK_POSITION_WEIGHT = 0.01  # hashed position vectors have length ~6.5 (128 values in [-1, 1])
_CROSS_GAIN, _CROSS_BIAS = 12.0, 6.0  # cross-encoder logit = GAIN * match - BIAS, match in [-1, 1]

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
doctor physician hospital medicine drug disease illness vaccine virus heart blood banana tea dog ocean sea
king queen city town music song football soccer teacher school weather rain forest buy sell tiny cook
kitchen war army election vote physics science moon english movie film book novel gold wine grape
automobile smartphone animal earth sun bread food house home large quick
""".split()


def _words_from_course_data() -> list[str]:
    """Lower-cased words of the course's example texts, passages and queries."""
    from course_utils import data

    corpus = data.load_corpus()
    texts = [data.EXAMPLE_QUERY, *data.EXAMPLE_DOCUMENTS, *data.BANK_SENTENCES, *corpus.passage_texts,
             *corpus.queries.values()]
    return re.findall(r"[a-z0-9]+", " ".join(texts).lower())


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


def _dense_model(path: Path, table: np.ndarray, dim: int = 384) -> None:
    """input_ids, attention_mask, token_type_ids -> last_hidden_state (b, s, dim).

    Every row holds the masked mean of the contextual token vectors, projected to ``dim`` by a fixed
    orthogonal map (fastembed's CLS pooling reads row 0 and normalises it). token_type_ids is declared, as
    in BERT exports, and folded in with weight 0 so that no input is unused.
    """
    from onnx import helper, numpy_helper

    graph: list = []
    inits: list = [numpy_helper.from_array(np.array(0, np.int64), "zero")]
    graph += [helper.make_node("Mul", ["token_type_ids", "zero"], ["tt0"]),
              helper.make_node("Add", ["attention_mask", "tt0"], ["mask"])]
    static_context(graph, inits, table, "mask", projection(table.shape[1], dim), "tok")
    _masked_mean(graph, inits, "tok", "mask", "pooled")
    graph += [helper.make_node("Shape", ["tok"], ["tok_shape"]),
              helper.make_node("Expand", ["pooled", "tok_shape"], ["last_hidden_state"])]
    _save_model(graph, inits, ["input_ids", "attention_mask", "token_type_ids"],
                ("last_hidden_state", ["batch", "sequence", dim]), path)


def _colbert_model(path: Path, table: np.ndarray, dim: int = 128) -> None:
    """input_ids, attention_mask -> (b, s, dim) unit-length token vectors.

    A token's row: its contextual vector, projected to ``dim`` by a fixed orthogonal map, normalised. A
    ``[MASK]`` row (fastembed pads queries with them, attention mask 0) carries the query's meaning, as
    real ColBERT's do: the mean of the query's word-piece rows, plus a small vector hashed from its
    position so that the padding rows differ; then normalised.
    """
    from onnx import helper, numpy_helper

    graph: list = []
    inits: list = [numpy_helper.from_array(np.array(_MASK_ID, np.int64), "mask_id"),
                   numpy_helper.from_array(np.array(_MASK_POSITION_WEIGHT, np.float32), "w_position"),
                   numpy_helper.from_array(np.array(1, np.int64), "seq_axis"),
                   numpy_helper.from_array(np.array([-1], np.int64), "last_axis"),
                   numpy_helper.from_array(np.array(1.0, np.float32), "one_f"),
                   numpy_helper.from_array(np.array(1_000_003, np.int64), "pos_offset")]
    static_context(graph, inits, table, "attention_mask", projection(table.shape[1], dim), "tok")
    _l2_normalise(graph, inits, "tok", "unit")
    content_mask(graph, inits, "attention_mask", "content", _FIRST_PIECE_ID)
    _masked_mean(graph, inits, "unit", "content", "query_mean")
    graph += [helper.make_node("Shape", ["input_ids"], ["ids_shape"]),
              helper.make_node("ConstantOfShape", ["ids_shape"], ["ones"],
                               value=numpy_helper.from_array(np.array([1], np.int64))),
              helper.make_node("CumSum", ["ones", "seq_axis"], ["pos1"]),
              helper.make_node("Add", ["pos1", "pos_offset"], ["pos"])]
    _hashed_vectors(graph, inits, "pos", dim, seed=130, out="posv")
    graph += [helper.make_node("Mul", ["posv", "w_position"], ["pos_w"]),
              helper.make_node("Add", ["query_mean", "pos_w"], ["mask_rows"]),
              helper.make_node("Equal", ["input_ids", "mask_id"], ["is_mask_b"]),
              helper.make_node("Cast", ["is_mask_b"], ["is_mask2"], to=1),
              helper.make_node("Unsqueeze", ["is_mask2", "last_axis"], ["is_mask"]),
              helper.make_node("Sub", ["one_f", "is_mask"], ["not_mask"]),
              helper.make_node("Mul", ["unit", "not_mask"], ["token_part"]),
              helper.make_node("Mul", ["mask_rows", "is_mask"], ["mask_part"]),
              helper.make_node("Add", ["token_part", "mask_part"], ["rows"])]
    _l2_normalise(graph, inits, "rows", "token_vectors")
    _save_model(graph, inits, ["input_ids", "attention_mask"],
                ("token_vectors", ["batch", "sequence", dim]), path)


def _cross_encoder_model(path: Path, table: np.ndarray) -> None:
    """input_ids, attention_mask, token_type_ids -> logits (b, 1).

    A MaxSim-style match of the two halves' contextual token vectors (unit length, 256-d): for each
    word-piece of the query (segment 0), its best cosine with a word-piece of the passage (segment 1);
    logit = GAIN * (mean of those) - BIAS, a monotone function of the match.
    """
    from onnx import helper, numpy_helper

    graph: list = []
    inits: list = [numpy_helper.from_array(np.array(1, np.int64), "one_i"),
                   numpy_helper.from_array(np.array(1.0, np.float32), "one_f"),
                   numpy_helper.from_array(np.array(4.0, np.float32), "exclude"),
                   numpy_helper.from_array(np.array(_CROSS_GAIN, np.float32), "gain"),
                   numpy_helper.from_array(np.array(_CROSS_BIAS, np.float32), "bias"),
                   numpy_helper.from_array(np.array([1], np.int64), "seq_axis"),
                   numpy_helper.from_array(np.array([-1], np.int64), "last_axis"),
                   numpy_helper.from_array(np.array(1e-9, np.float32), "eps")]
    static_context(graph, inits, table, "attention_mask", None, "tok")
    _l2_normalise(graph, inits, "tok", "unit")
    content_mask(graph, inits, "attention_mask", "content", _FIRST_PIECE_ID)
    graph += [helper.make_node("Sub", ["one_i", "token_type_ids"], ["not_b"]),
              helper.make_node("Mul", ["content", "not_b"], ["mask_a"]),
              helper.make_node("Mul", ["content", "token_type_ids"], ["mask_b"]),
              helper.make_node("Cast", ["mask_a"], ["mask_a_f"], to=1),
              helper.make_node("Cast", ["mask_b"], ["mask_b_f"], to=1),
              # similarity of every token to every token: (b, s, s)
              helper.make_node("Transpose", ["unit"], ["unit_t"], perm=[0, 2, 1]),
              helper.make_node("MatMul", ["unit", "unit_t"], ["sim"]),
              # columns that are not passage word-pieces drop out of the max
              helper.make_node("Unsqueeze", ["mask_b_f", "seq_axis"], ["col_mask"]),
              helper.make_node("Sub", ["col_mask", "one_f"], ["col_off"]),
              helper.make_node("Mul", ["col_off", "exclude"], ["col_penalty"]),
              helper.make_node("Add", ["sim", "col_penalty"], ["sim_b"]),
              helper.make_node("ReduceMax", ["sim_b", "last_axis"], ["best"], keepdims=0),
              helper.make_node("Mul", ["best", "mask_a_f"], ["best_a"]),
              helper.make_node("ReduceSum", ["best_a", "last_axis"], ["total"], keepdims=1),
              helper.make_node("ReduceSum", ["mask_a_f", "last_axis"], ["count0"], keepdims=1),
              helper.make_node("Add", ["count0", "eps"], ["count"]),
              helper.make_node("Div", ["total", "count"], ["match"]),
              helper.make_node("Mul", ["match", "gain"], ["scaled"]),
              helper.make_node("Sub", ["scaled", "bias"], ["logits"])]
    _save_model(graph, inits, ["input_ids", "attention_mask", "token_type_ids"],
                ("logits", ["batch", 1]), path)


_BUILDERS = {
    models.DENSE_MODEL: _dense_model,
    models.LATE_INTERACTION_MODEL: _colbert_model,
    models.CROSS_ENCODER_MODEL: _cross_encoder_model,
}


def _write_snapshot(cache_dir: Path, model_name: str, tokenizer_json: str, table: np.ndarray) -> Path:
    """Write one model's snapshot into the Hugging Face cache layout; return its folder."""
    repo, model_file = models.hub_files(model_name)
    snapshot = snapshot_folder(cache_dir, repo)
    _BUILDERS[model_name](snapshot / model_file, table)
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
        "Its vectors come from wordllama's trained static token vectors: real signal, far weaker than the real "
        "model's. Never copy it into a real model cache.\n")
    return snapshot


def write_text_standins(cache: Path, extra_words: Iterable[str] = ()) -> None:
    """Write the three text stand-ins into ``cache`` (after the checks of ``standins.build_standin_cache``)."""
    vocabulary = build_vocabulary(extra_words)
    tokenizer_json = _tokenizer_json(vocabulary)
    table = token_table(vocabulary, _FIRST_PIECE_ID)
    for model_name in models.ALL_MODELS:
        _write_snapshot(cache, model_name, tokenizer_json, table)
