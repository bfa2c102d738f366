"""Token labels line up row for row with what fastembed's ColBERT returns."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import models
from course_utils.data import BANK_SENTENCES, EXAMPLE_DOCUMENTS, EXAMPLE_QUERY
from course_utils.scoring.tokens import token_ids, token_labels
from tests.models_fixtures import load

TEXTS = [EXAMPLE_QUERY, *EXAMPLE_DOCUMENTS, *BANK_SENTENCES, "Hello, world!!! (really?)", "...",
         "a", "unusual qwertyuiop words 1234 don't split-well", " ".join(["token"] * 40),
         " ".join(["long"] * 700)]


def fastembed_rows(model, text: str, kind: str) -> list[int]:
    """Ids of the rows fastembed keeps, read from its own post-processing of one text."""
    colbert = model.model
    output = colbert.onnx_embed([text], is_doc=kind == "document")
    if kind == "query":
        return output.input_ids[0].tolist()
    list(colbert._post_process_onnx_output(output, is_doc=True))  # zeroes the mask of dropped tokens
    return output.input_ids[0][output.attention_mask[0] == 1].tolist()


@pytest.fixture(scope="module")
def colbert():
    return load(models.LATE_INTERACTION_MODEL)


@pytest.mark.parametrize("kind", ["query", "document"])
@pytest.mark.parametrize("text", TEXTS)
def test_ids_match_fastembeds_rows(colbert, text, kind):
    assert token_ids(colbert, text, kind) == fastembed_rows(colbert, text, kind)
    vectors = next(colbert.query_embed(text) if kind == "query" else colbert.passage_embed([text]))
    assert len(token_labels(colbert, text, kind)) == len(vectors)


def test_query_labels_have_marker_and_mask_padding(colbert):
    labels = token_labels(colbert, EXAMPLE_QUERY, "query")
    assert len(labels) == models.COLBERT_QUERY_LENGTH
    assert labels[:2] == ["[CLS]", "[Q]"]
    assert "[SEP]" in labels and labels[-1] == "[MASK]"
    assert labels.count("[MASK]") == 32 - labels.index("[SEP]") - 1


def test_document_labels_have_marker_and_no_punctuation(colbert):
    labels = token_labels(colbert, "Hello, world!!! (really?)")
    assert labels[:2] == ["[CLS]", "[D]"] and labels[-1] == "[SEP]"
    assert not any(label in ",!()?" for label in labels)


def test_labels_are_lowercase_pieces_of_the_text(colbert):
    labels = token_labels(colbert, BANK_SENTENCES[0])
    assert "bank" in labels and "river" in labels


def test_document_in_a_batch_gets_the_same_labels_as_alone(colbert):
    # passage_embed pads a batch to its longest text; padding rows are dropped again
    batch = list(colbert.passage_embed(list(TEXTS[:4])))
    for text, vectors in zip(TEXTS[:4], batch):
        alone = next(colbert.passage_embed([text]))
        np.testing.assert_allclose(vectors, alone, atol=1e-5)
        assert len(token_labels(colbert, text)) == len(vectors)


def test_bad_arguments(colbert):
    with pytest.raises(ValueError, match="kind"):
        token_labels(colbert, "x", "passage")
    with pytest.raises(TypeError, match="text must be one string"):
        token_labels(colbert, ["x"])
    with pytest.raises(TypeError, match="LateInteractionTextEmbedding"):
        token_labels(load(models.DENSE_MODEL), "x")
