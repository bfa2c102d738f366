"""Offline stand-ins for the two multimodal models of lesson 7 (ColModernVBERT and ColPali).

Built next to the text stand-ins of :mod:`course_utils.models.standins` (same cache
layout, same marker file). fastembed runs its *real* code on them: the image
preprocessing (resizing, ColModernVBERT's tiling and global view), the prompts
around the image tokens, query augmentation, padding and post-processing. So the
number of vectors per page, and which row is which token, are fastembed's own:

- ``Qdrant/colpali-v1.3-fp16``: every page becomes 1024 image tokens (a 32 x 32
  grid of patches of the page squeezed to 448 x 448) + 6 prompt tokens = 1030
  float16 vectors.
- ``Qdrant/colmodernvbert``: the page is resized so its long edge is 2048 px, its
  sides are rounded up to multiples of 512, it is cut into rows x cols tiles of
  512 px plus one global view, and each tile gives 64 image tokens (an 8 x 8 grid).
  The stand-in runs the same rule at 1/8 scale (long edge 256, tiles of 64 px),
  which gives the same grids and the same token counts.

The vectors themselves mean little: text tokens get a hashed vector of their id
(as in the text stand-ins); image tokens get a random projection of the mean
colour and contrast of their patch plus a hashed vector of the patch's position
in its tile, all normalised to unit length. Enough for the code paths, the
shapes and the heat maps to be real; the scores are not.

Token texts differ from the real tokenizers (a small lower-cased WordPiece
vocabulary), so a query may get a different number of vectors than with the
real model; image-token counts are exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from course_utils import models
from course_utils.models.standins import text as text_standins
from course_utils.models.standins.snapshot import MARKER_FILE, snapshot_folder

__all__ = [
    "build_multimodal_standins",
    "colmodernvbert_model",
    "colpali_model",
    "write_colmodernvbert",
    "write_colpali",
]

#: The image-token id that fastembed puts in ColPali's input (``<image>`` of PaliGemma).
COLPALI_IMAGE_TOKEN_ID = 257152
#: ColPali's patch grid: 32 x 32 patches of a 448 x 448 page.
COLPALI_GRID = 32
COLPALI_IMAGE_SIZE = 448
#: ColModernVBERT image tokens per tile (an 8 x 8 grid), as in the real processor_config.json.
IMAGE_SEQ_LEN = 64
#: The stand-in's image settings: the real rule at 1/8 scale (real: 2048, 512, 512).
STANDIN_LONGEST_EDGE, STANDIN_TILE = 256, 64
#: The real model's settings, for the tiling rule in :mod:`course_utils.pages.vectors`.
REAL_LONGEST_EDGE, REAL_TILE = 2048, 512

_DIM = 128
_FEATURES = 6  # mean and mean of squares of R, G, B over a patch
_MAX_LENGTH = 8192
_COLPALI_SPECIAL = ["<pad>", "<eos>", "<bos>", "<unk>", "<s>", "<image>", "\n"]
_VBERT_SPECIAL = (["<pad>", "<unk>", "<|begin_of_text|>", "<end_of_utterance>", "<image>",
                   "<fake_token_around_image>", "<global-img>", "\n"]
                  + [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)])


def _tokenizer_json(vocabulary: list[str], special: list[str]) -> tuple[str, dict[str, int]]:
    """WordPiece tokenizer with ``special`` as added tokens and no template; returns (json, {special: id})."""
    from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece

    vocab = {token: i for i, token in enumerate(vocabulary)}
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.add_special_tokens([AddedToken(token, normalized=False, special=True) for token in special])
    ids = {token: tokenizer.token_to_id(token) for token in special}
    return tokenizer.to_str(), ids


def _patch_features(graph: list, inits: list, pixels: str, patch: int, out: str) -> None:
    """Append nodes: pixels (n, 3, H, W) -> out (n, 6, H/patch, W/patch), mean and mean square per patch."""
    from onnx import helper

    graph += [
        helper.make_node("AveragePool", [pixels], [out + "_mean"], kernel_shape=[patch, patch], strides=[patch, patch]),
        helper.make_node("Mul", [pixels, pixels], [out + "_sq"]),
        helper.make_node("AveragePool", [out + "_sq"], [out + "_msq"], kernel_shape=[patch, patch],
                         strides=[patch, patch]),
        helper.make_node("Concat", [out + "_mean", out + "_msq"], [out], axis=1),
    ]


def _constants(inits: list, **values) -> None:
    from onnx import numpy_helper

    for name, value in values.items():
        inits.append(numpy_helper.from_array(np.asarray(value), name))


def _projection(seed: int) -> np.ndarray:
    """float32 (6, 128): random projection of a patch's six colour features."""
    return np.random.RandomState(seed).normal(size=(_FEATURES, _DIM)).astype(np.float32)


def _save(graph: list, inits: list, pixel_shape: list, output: tuple[str, int], path: Path) -> None:
    from onnx import TensorProto, checker, helper

    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
              for n in ("input_ids", "attention_mask")]
    inputs.append(helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, pixel_shape))
    out = helper.make_tensor_value_info(output[0], output[1], ["batch", "sequence", _DIM])
    g = helper.make_graph(graph, path.stem, inputs, [out], initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)],
                              producer_name="course_utils.models.standins.multimodal", ir_version=8)
    checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())


def _mix_and_normalise(graph: list, inits: list, image_id: int, image_rows: str, out: str) -> None:
    """out = unit(hash(id) + 3 * is_image * image_rows), with attention_mask folded in with weight 0."""
    from onnx import helper

    _constants(inits, image_id=np.array(image_id, np.int64), image_weight=np.array(3.0, np.float32),
               last=np.array([-1], np.int64), zero_i=np.array(0, np.int64))
    graph += [helper.make_node("Mul", ["attention_mask", "zero_i"], ["mask0"]),
              helper.make_node("Add", ["input_ids", "mask0"], ["ids"])]
    text_standins._hashed_vectors(graph, inits, "ids", _DIM, seed=228, out="tok")
    graph += [helper.make_node("Equal", ["ids", "image_id"], ["is_img_b"]),
              helper.make_node("Cast", ["is_img_b"], ["is_img_f"], to=1),
              helper.make_node("Unsqueeze", ["is_img_f", "last"], ["is_img3"]),
              helper.make_node("Mul", [image_rows, "is_img3"], ["img_masked"]),
              helper.make_node("Mul", ["img_masked", "image_weight"], ["img_w"]),
              helper.make_node("Add", ["tok", "img_w"], ["mixed"])]
    text_standins._l2_normalise(graph, inits, "mixed", out)


def colpali_model(path: Path) -> None:
    """input_ids (b, s), attention_mask (b, s), pixel_values (b, 3, 448, 448) -> (b, s, 128) float16.

    Rows 0..1023 of an image input are the 32 x 32 patches in row-major order.
    """
    from onnx import TensorProto, helper

    graph: list = []
    inits: list = []
    n = COLPALI_GRID * COLPALI_GRID
    _constants(inits, proj=_projection(1030), shape_bfn=np.array([0, _FEATURES, n], np.int64),
               positions=np.arange(n, dtype=np.int64).reshape(1, n) + 7_000_000,
               zero_f=np.array(0.0, np.float32), start=np.array([0], np.int64), axis1=np.array([1], np.int64),
               pos_weight=np.array(0.5, np.float32))
    _patch_features(graph, inits, "pixel_values", COLPALI_IMAGE_SIZE // COLPALI_GRID, "feat")
    text_standins._hashed_vectors(graph, inits, "positions", _DIM, seed=229, out="posv")
    graph += [helper.make_node("Reshape", ["feat", "shape_bfn"], ["feat_flat"]),
              helper.make_node("Transpose", ["feat_flat"], ["feat_t"], perm=[0, 2, 1]),
              helper.make_node("MatMul", ["feat_t", "proj"], ["patch_rows0"]),
              helper.make_node("Mul", ["posv", "pos_weight"], ["posv_w"]),
              helper.make_node("Add", ["patch_rows0", "posv_w"], ["patch_rows"]),
              # align with the sequence: [patches, zeros(s)] cut to the first s rows
              helper.make_node("Shape", ["input_ids"], ["ids_shape"]),
              helper.make_node("Slice", ["ids_shape", "axis1", "ids_len_end"], ["seq_len"]),
              helper.make_node("Cast", ["input_ids"], ["ids_f"], to=1),
              helper.make_node("Unsqueeze", ["ids_f", "last_u"], ["ids_f3"]),
              helper.make_node("Mul", ["ids_f3", "zero_f"], ["zeros_s1"]),
              helper.make_node("Add", ["zeros_s1", "zero_row"], ["zeros_s"]),
              helper.make_node("Concat", ["patch_rows", "zeros_s"], ["padded"], axis=1),
              helper.make_node("Slice", ["padded", "start", "seq_len", "axis1"], ["image_rows"])]
    _constants(inits, ids_len_end=np.array([2], np.int64), last_u=np.array([-1], np.int64),
               zero_row=np.zeros((1, 1, _DIM), np.float32))
    _mix_and_normalise(graph, inits, COLPALI_IMAGE_TOKEN_ID, "image_rows", "unit")
    graph.append(helper.make_node("Cast", ["unit"], ["last_hidden_state"], to=TensorProto.FLOAT16))
    _save(graph, inits, ["batch", 3, COLPALI_IMAGE_SIZE, COLPALI_IMAGE_SIZE],
          ("last_hidden_state", TensorProto.FLOAT16), path)


def colmodernvbert_model(path: Path, image_token_id: int) -> None:
    """input_ids (b, s), attention_mask (b, s), pixel_values (b, t, 3, 64, 64) -> (b, s, 128) float32.

    The k-th ``<image>`` token of a sequence gets patch ``k % 64`` (row-major in an
    8 x 8 grid) of tile ``k // 64``: the tiles in fastembed's order, global view last.
    """
    from onnx import TensorProto, helper

    graph: list = []
    inits: list = []
    side = STANDIN_TILE
    patch = side // 8
    _constants(inits, proj=_projection(64), shape_tiles=np.array([-1, 3, side, side], np.int64),
               positions=np.arange(IMAGE_SEQ_LEN, dtype=np.int64).reshape(1, IMAGE_SEQ_LEN) + 9_000_000,
               pos_weight=np.array(0.5, np.float32), one_i=np.array(1, np.int64), axis1_s=np.array(1, np.int64),
               zero_idx=np.array(0, np.int64), last_e=np.array([-1], np.int64),
               )
    text_standins._hashed_vectors(graph, inits, "positions", _DIM, seed=230, out="posv")
    graph += [helper.make_node("Mul", ["posv", "pos_weight"], ["posv_w"]),
              helper.make_node("Unsqueeze", ["posv_w", "zero_axis"], ["posv_w4"]),
              helper.make_node("Shape", ["pixel_values"], ["px_shape"]),
              helper.make_node("Reshape", ["pixel_values", "shape_tiles"], ["tiles"])]
    _patch_features(graph, inits, "tiles", patch, "feat")  # (b*t, 6, 8, 8)
    graph += [helper.make_node("Slice", ["px_shape", "s0", "s1", "s_axis"], ["batch_dim"]),
              helper.make_node("Concat", ["batch_dim", "minus_one_six_64"], ["shape_b_t"], axis=0),
              helper.make_node("Reshape", ["feat", "shape_b_t"], ["feat_b"]),  # (b, t, 6, 64)
              helper.make_node("Transpose", ["feat_b"], ["feat_t"], perm=[0, 1, 3, 2]),  # (b, t, 64, 6)
              helper.make_node("MatMul", ["feat_t", "proj"], ["rows0"]),  # (b, t, 64, 128)
              helper.make_node("Add", ["rows0", "posv_w4"], ["rows1"]),
              helper.make_node("Concat", ["batch_dim", "minus_one_128"], ["shape_bn2"], axis=0),
              helper.make_node("Reshape", ["rows1", "shape_bn2"], ["patch_rows1"]),  # (b, t*64, 128)
              # a text batch has one blank tile for all its texts: broadcast it to every row
              helper.make_node("Shape", ["input_ids"], ["ids_shape"]),
              helper.make_node("Slice", ["ids_shape", "s0", "s1", "s_axis"], ["ids_batch"]),
              helper.make_node("Concat", ["ids_batch", "one_one"], ["batch_target"], axis=0),
              helper.make_node("Expand", ["patch_rows1", "batch_target"], ["patch_rows"]),
              helper.make_node("Equal", ["input_ids", "image_id_v"], ["is_img_v"]),
              helper.make_node("Cast", ["is_img_v"], ["is_img_i"], to=TensorProto.INT64),
              helper.make_node("CumSum", ["is_img_i", "axis1_s"], ["count"]),
              helper.make_node("Sub", ["count", "one_i"], ["idx0"]),
              helper.make_node("Max", ["idx0", "zero_idx"], ["idx"]),
              helper.make_node("Unsqueeze", ["idx", "last_e"], ["idx3"]),
              helper.make_node("Shape", ["idx3"], ["idx3_shape"]),
              helper.make_node("Mul", ["idx3_shape", "ones_then_dim"], ["idx_target"]),
              helper.make_node("Expand", ["idx3", "idx_target"], ["idx_full"]),
              helper.make_node("GatherElements", ["patch_rows", "idx_full"], ["image_rows"], axis=1)]
    _constants(inits, s0=np.array([0], np.int64), s1=np.array([1], np.int64), s_axis=np.array([0], np.int64),
               minus_one_six_64=np.array([-1, _FEATURES, IMAGE_SEQ_LEN], np.int64),
               minus_one_128=np.array([-1, _DIM], np.int64), one_one=np.array([1, 1], np.int64),
               zero_axis=np.array([0], np.int64),
               image_id_v=np.array(image_token_id, np.int64), ones_then_dim=np.array([1, 1, _DIM], np.int64))
    _mix_and_normalise(graph, inits, image_token_id, "image_rows", "token_vectors")
    _save(graph, inits, ["batch", "tiles", 3, side, side], ("token_vectors", TensorProto.FLOAT), path)


def _page_words() -> list[str]:
    """Words of the course pages' queries and titles (so the stand-in tokenizer knows them)."""
    import re

    path = Path(__file__).with_name("data") / "pages" / "pages.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    texts = [q["text"] for q in data.get("queries", [])] + [p.get("title", "") for p in data.get("pages", [])]
    return re.findall(r"[a-z0-9]+", " ".join(texts).lower())


def _write_common(snapshot: Path, model_name: str, tokenizer_json: str, pad: str, pad_id: int,
                  tokenizer_extra: dict, config_extra: dict) -> None:
    (snapshot / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    (snapshot / "tokenizer_config.json").write_text(json.dumps(
        {"model_max_length": _MAX_LENGTH, "pad_token": pad, **tokenizer_extra}, indent=1))
    (snapshot / "special_tokens_map.json").write_text(json.dumps({"pad_token": pad}, indent=1))
    (snapshot / "config.json").write_text(json.dumps({"pad_token_id": pad_id, "course_standin": True,
                                                      **config_extra}, indent=1))
    (snapshot / MARKER_FILE).write_text(
        f"Offline stand-in for {model_name}, built by course_utils.models.standins.multimodal for tests and grading.\n"
        "Its outputs have the real shapes but mean nothing. Never copy it into a real model cache.\n")


def _snapshot_folder(cache_dir: Path, model_name: str) -> Path:
    return snapshot_folder(cache_dir, models.hub_files(model_name)[0])


def write_colpali(cache_dir: Path, vocabulary: list[str]) -> Path:
    """The ColPali stand-in's snapshot in ``cache_dir``; returns its folder."""
    snapshot = _snapshot_folder(cache_dir, models.COLPALI_MODEL)
    tokenizer_json, ids = _tokenizer_json(vocabulary, _COLPALI_SPECIAL)
    colpali_model(snapshot / "model.onnx")
    (snapshot / "model.onnx_data").write_bytes(b"stand-in: the graph keeps its few weights inline\n")
    _write_common(snapshot, models.COLPALI_MODEL, tokenizer_json, "<pad>", ids["<pad>"], {}, {})
    (snapshot / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "SiglipImageProcessor", "do_resize": True,
        "size": {"height": COLPALI_IMAGE_SIZE, "width": COLPALI_IMAGE_SIZE}, "resample": 3,
        "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}, indent=1))
    return snapshot


def write_colmodernvbert(cache_dir: Path, vocabulary: list[str]) -> Path:
    """The ColModernVBERT stand-in's snapshot in ``cache_dir``; returns its folder."""
    snapshot = _snapshot_folder(cache_dir, models.VISUAL_MODEL)
    tokenizer_json, ids = _tokenizer_json(vocabulary, _VBERT_SPECIAL)
    colmodernvbert_model(snapshot / "model_v2.onnx", ids["<image>"])
    _write_common(snapshot, models.VISUAL_MODEL, tokenizer_json, "<pad>", ids["<pad>"],
                  {"padding_side": "left"}, {"vision_config": {"image_size": STANDIN_TILE}})
    (snapshot / "processor_config.json").write_text(json.dumps({"image_seq_len": IMAGE_SEQ_LEN}, indent=1))
    (snapshot / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "Idefics3ImageProcessor", "do_resize": True,
        "size": {"longest_edge": STANDIN_LONGEST_EDGE}, "do_image_splitting": True,
        "max_image_size": {"longest_edge": STANDIN_TILE}, "resample": 1, "do_rescale": True,
        "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5]}, indent=1))
    return snapshot


def build_multimodal_standins(cache_dir, extra_words=()) -> None:
    """Write both multimodal stand-ins into ``cache_dir`` (called by ``standins.build_standin_cache``).

    Raises:
        ValueError: if ``cache_dir`` already holds one of the real models.
    """
    cache = Path(cache_dir)
    for model_name in models.VISUAL_MODELS:
        snapshot = models.cached_snapshot(model_name, cache)
        if snapshot is not None and not (snapshot / MARKER_FILE).exists():
            raise ValueError(f"cache_dir {cache} already holds the real {model_name}; build the stand-ins into "
                             "an empty temporary folder instead, so that no real model is overwritten.")
    prompt_words = ["user", "describe", "assistant", "query", "image", "when", "did", "dr", "einstein", "die"]
    vocabulary = text_standins.build_vocabulary([*extra_words, *prompt_words, *_page_words()])
    write_colmodernvbert(cache, vocabulary)
    write_colpali(cache, vocabulary)
