"""The offline stand-ins: fastembed loads them under the real names and runs its real code on them."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from course_utils import models
from course_utils.models import standins
from course_utils.data import BANK_SENTENCES, EXAMPLE_DOCUMENTS, EXAMPLE_QUERY
from course_utils.scoring.tokens import token_labels
from tests.models_fixtures import load

pytestmark = pytest.mark.skipif(bool(os.environ.get("COURSE_REAL_MODELS")),
                                reason="checks the stand-ins; --real-models uses the real models")


def test_session_uses_standins_offline():
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    for name in models.ALL_MODELS:
        snapshot = models.cached_snapshot(name)
        assert snapshot is not None and (snapshot / standins.MARKER_FILE).exists()
        assert str(snapshot).startswith(os.environ["FASTEMBED_CACHE_PATH"])


def test_cache_layout_is_the_hugging_face_one(tmp_path):
    standins.build_standin_cache(tmp_path)
    for repo, model_file in [("Qdrant/bge-small-en-v1.5-onnx-Q", "model_optimized.onnx"),
                             ("colbert-ir/colbertv2.0", "model.onnx"),
                             ("Xenova/ms-marco-MiniLM-L-6-v2", "onnx/model.onnx")]:
        repo_dir = tmp_path / ("models--" + repo.replace("/", "--"))
        revision = (repo_dir / "refs" / "main").read_text()
        snapshot = repo_dir / "snapshots" / revision
        for name in (model_file, "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                     "config.json"):
            assert (snapshot / name).is_file(), name
        # the embedding table (a row of 256 float16 per token of the vocabulary) and a projection
        assert (snapshot / model_file).stat().st_size < 3_000_000


def test_dense_standin_has_real_shapes_and_unit_vectors():
    model = load(models.DENSE_MODEL)
    vectors = list(model.passage_embed(list(EXAMPLE_DOCUMENTS)))
    query = next(model.query_embed(EXAMPLE_QUERY))
    assert [v.shape for v in vectors] == [(384,), (384,)] and query.shape == (384,)
    assert query.dtype == np.float32
    np.testing.assert_allclose([np.linalg.norm(v) for v in vectors + [query]], 1.0, rtol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])


def test_cross_encoder_standin_gives_one_logit_per_pair():
    scores = list(load(models.CROSS_ENCODER_MODEL).rerank(EXAMPLE_QUERY, list(EXAMPLE_DOCUMENTS)))
    assert len(scores) == 2 and all(isinstance(s, float) for s in scores)
    assert scores[0] != scores[1]


def test_colbert_standin_pads_queries_and_drops_document_punctuation():
    model = load(models.LATE_INTERACTION_MODEL)
    query = next(model.query_embed(EXAMPLE_QUERY))
    assert query.shape == (32, 128) and query.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(query, axis=1), 1.0, rtol=1e-5)  # normalised in the graph
    assert len(np.unique(query.round(5), axis=0)) == 32  # [MASK] rows differ by position
    doc, doc_with_punctuation = model.passage_embed(["apple pie", "apple , pie !"])
    assert doc.shape == (5, 128)  # [CLS] [D] apple pie [SEP]
    np.testing.assert_allclose(np.linalg.norm(doc, axis=1), 1.0, rtol=1e-5)
    assert doc_with_punctuation.shape == doc.shape


def test_colbert_standin_vectors_are_contextual():
    model = load(models.LATE_INTERACTION_MODEL)
    river, money = model.passage_embed(list(BANK_SENTENCES))
    river_bank = river[token_labels(model, BANK_SENTENCES[0]).index("bank")]
    money_bank = money[token_labels(model, BANK_SENTENCES[1]).index("bank")]
    assert 0.5 < float(river_bank @ money_bank) < 0.999


def test_standins_are_deterministic(tmp_path):
    standins.build_standin_cache(tmp_path / "a")
    standins.build_standin_cache(tmp_path / "b")
    for name in models.ALL_MODELS:
        a, b = models.cached_snapshot(name, tmp_path / "a"), models.cached_snapshot(name, tmp_path / "b")
        for path in a.rglob("*"):
            if path.is_file():
                assert path.read_bytes() == (b / path.relative_to(a)).read_bytes(), path


def test_loading_and_embedding_print_nothing_to_stderr(tmp_path):
    # graded cells lose their points if anything reaches stderr: loading a model must stay quiet
    code = ("from fastembed import TextEmbedding, LateInteractionTextEmbedding\n"
            "from fastembed.rerank.cross_encoder import TextCrossEncoder\n"
            "from course_utils import models\n"
            "list(TextEmbedding(models.DENSE_MODEL).embed(['a b']))\n"
            "list(LateInteractionTextEmbedding(models.LATE_INTERACTION_MODEL).query_embed('a b'))\n"
            "list(TextCrossEncoder(models.CROSS_ENCODER_MODEL).rerank('a', ['b']))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_refuses_to_overwrite_a_real_model(tmp_path):
    repo, model_file = models.hub_files(models.DENSE_MODEL)
    snapshot = tmp_path / models.cache_folder_name(repo) / "snapshots" / "abc"
    (snapshot / model_file).parent.mkdir(parents=True)
    (snapshot / model_file).write_bytes(b"real weights")
    (snapshot / "tokenizer.json").write_text("{}")
    (tmp_path / models.cache_folder_name(repo) / "refs").mkdir()
    (tmp_path / models.cache_folder_name(repo) / "refs" / "main").write_text("abc")
    with pytest.raises(ValueError, match="already holds the real"):
        standins.build_standin_cache(tmp_path)
    assert (snapshot / model_file).read_bytes() == b"real weights"


def test_standin_models_context_restores_environment(monkeypatch):
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", "/somewhere/else")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with standins.standin_models() as folder:
        assert os.environ["FASTEMBED_CACHE_PATH"] == str(folder)
        assert models.cached_snapshot(models.DENSE_MODEL) is not None
    assert os.environ["FASTEMBED_CACHE_PATH"] == "/somewhere/else"
    assert "HF_HUB_OFFLINE" not in os.environ
    assert not folder.exists()
