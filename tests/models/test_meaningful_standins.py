"""The text stand-ins carry real (weak) meaning: their token vectors come from wordllama's trained table.

Every check runs through fastembed exactly as the lessons call it, on the session's stand-in cache
(conftest.py). The thresholds are loose on purpose: they catch a stand-in whose vectors are noise
again (hashed ids gave nDCG@10 about 0.4 on the course corpus), not small changes of construction.
"""

from __future__ import annotations

import functools
import os
import time

import numpy as np
import pytest

from course_utils import data, models
from course_utils.scoring.maxsim import maxsim
from course_utils.scoring.metrics import ndcg_at_k
from course_utils.scoring.tokens import token_labels
from tests.models_fixtures import load

pytestmark = pytest.mark.skipif(bool(os.environ.get("COURSE_REAL_MODELS")),
                                reason="checks the stand-ins; --real-models uses the real models")

#: (word, related word): every word is a whole token of the stand-in vocabulary.
RELATED = [
    ("laptop", "computer"), ("doctor", "physician"), ("car", "automobile"), ("river", "water"),
    ("money", "loan"), ("apple", "fruit"), ("snake", "python"), ("planet", "earth"), ("coffee", "tea"),
    ("cat", "dog"), ("ocean", "sea"), ("king", "queen"), ("city", "town"), ("music", "song"),
    ("football", "soccer"), ("teacher", "school"), ("hospital", "medicine"), ("disease", "illness"),
    ("war", "army"), ("election", "vote"), ("movie", "film"), ("book", "novel"), ("vaccine", "virus"),
    ("gold", "metal"), ("wine", "grape"), ("phone", "smartphone"), ("bread", "food"), ("big", "large"),
]
#: Each word paired with the related word of another pair, shifted so that no pair is related.
UNRELATED = [(a, RELATED[(i + 7) % len(RELATED)][1]) for i, (a, _) in enumerate(RELATED)]


def _cosines(vectors_a, vectors_b) -> np.ndarray:
    return np.array([float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(vectors_a, vectors_b)])


def _dense_similarities(pairs) -> np.ndarray:
    model = load(models.DENSE_MODEL)
    first = list(model.query_embed([a for a, _ in pairs]))
    second = list(model.passage_embed([b for _, b in pairs]))
    return _cosines(first, second)


def _colbert_similarities(pairs) -> np.ndarray:
    model = load(models.LATE_INTERACTION_MODEL)
    documents = list(model.passage_embed([b for _, b in pairs]))
    return np.array([maxsim(next(model.query_embed(a)), document) for (a, _), document in zip(pairs, documents)])


def test_building_the_text_standins_is_fast(tmp_path):
    from course_utils.models.standins import static_vectors, text

    static_vectors._wordllama.cache_clear()  # read wordllama's files again, as a fresh process does
    start = time.perf_counter()
    text.write_text_standins(tmp_path)
    seconds = time.perf_counter() - start
    print(f"\nthe three text stand-ins built in {seconds:.1f} s")
    assert seconds < 20


def test_the_word_pairs_are_whole_tokens():
    from course_utils.models.standins import build_vocabulary

    vocabulary = set(build_vocabulary())
    missing = sorted({w for pair in RELATED for w in pair} - vocabulary)
    assert not missing, missing
    assert len(RELATED) >= 20
    related_sets = {frozenset(p) for p in RELATED}
    assert not any(frozenset(p) in related_sets for p in UNRELATED)


@pytest.mark.parametrize("similarities", [_dense_similarities, _colbert_similarities], ids=["dense", "colbert"])
def test_related_words_score_clearly_above_unrelated_ones(similarities):
    related, unrelated = similarities(RELATED), similarities(UNRELATED)
    print(f"\n{similarities.__name__}: related mean {related.mean():.3f} (min {related.min():.3f}), "
          f"unrelated mean {unrelated.mean():.3f} (max {unrelated.max():.3f})")
    # the same word, once beside its related word and once beside an unrelated one
    assert (related > unrelated).mean() >= 0.9
    spread = np.concatenate([related, unrelated]).std()
    assert related.mean() - unrelated.mean() > spread


def test_same_word_in_two_contexts_gets_two_colbert_vectors():
    model = load(models.LATE_INTERACTION_MODEL)
    river, money = model.passage_embed(list(data.BANK_SENTENCES))
    river_bank = river[token_labels(model, data.BANK_SENTENCES[0]).index("bank")]
    money_bank = money[token_labels(model, data.BANK_SENTENCES[1]).index("bank")]
    assert float(river_bank @ money_bank) < 0.99
    # and each leans to its neighbours' meaning: "bank" of "river bank" is nearer to "water"
    river_bank, money_bank = (vectors[3 - i] for i, vectors in  # [CLS] [D] river bank [SEP]; [CLS] [D] bank account
                              enumerate(model.passage_embed(["river bank", "bank account"])))
    word = {w: next(model.passage_embed([w]))[2] for w in ("water", "money")}  # [CLS] [D] word [SEP]
    assert river_bank @ word["water"] > money_bank @ word["water"]
    assert money_bank @ word["money"] > river_bank @ word["money"]


def test_mask_rows_carry_the_query_meaning():
    model = load(models.LATE_INTERACTION_MODEL)
    query = next(model.query_embed("laptop"))  # [CLS] [Q] laptop [SEP] [MASK] x 28
    assert token_labels(model, "laptop", "query")[2:5] == ["laptop", "[SEP]", "[MASK]"]
    laptop_row, mask_rows = query[2], query[4:]
    assert len(mask_rows) == 28
    assert (mask_rows @ laptop_row).min() > 0.9
    # and they match the query's meaning in a document: "computer" more than "banana"
    computer, banana = (next(model.passage_embed([w]))[2] for w in ("computer", "banana"))
    assert (mask_rows @ computer).mean() > (mask_rows @ banana).mean() + 0.1


# ---- the course corpus ------------------------------------------------------------------------

@functools.cache
def _corpus():
    return data.load_corpus()


def _ndcg(scores: np.ndarray) -> float:
    """Mean nDCG@10 of the rankings of ``scores`` (queries x passages), ties broken by passage order."""
    corpus = _corpus()
    ids = corpus.passage_ids
    values = [ndcg_at_k([ids[j] for j in np.argsort(-row, kind="stable")[:10]], corpus.qrels[q], 10)
              for q, row in zip(corpus.queries, scores)]
    return float(np.mean(values))


@functools.cache
def _dense_vectors():
    model = load(models.DENSE_MODEL)
    corpus = _corpus()
    return np.array(list(model.query_embed(list(corpus.queries.values())))), \
        np.array(list(model.passage_embed(corpus.passage_texts)))


@functools.cache
def _colbert_vectors():
    model = load(models.LATE_INTERACTION_MODEL)
    corpus = _corpus()
    return [next(model.query_embed(q)) for q in corpus.queries.values()], \
        list(model.passage_embed(corpus.passage_texts))


def _random_ndcg() -> float:
    rng = np.random.default_rng(0)
    corpus = _corpus()
    return float(np.mean([_ndcg(rng.random((len(corpus.queries), len(corpus.passages)))) for _ in range(20)]))


def _shuffled(vectors: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """The same token vectors dealt out at random: each document keeps its length, not its tokens."""
    rng = np.random.default_rng(seed)
    rows = np.concatenate(vectors)[rng.permutation(sum(len(v) for v in vectors))]
    return np.split(rows, np.cumsum([len(v) for v in vectors])[:-1])


def test_dense_ranks_the_corpus_well_above_chance_and_a_shuffled_control():
    queries, passages = _dense_vectors()
    quality = _ndcg(queries @ passages.T)
    shuffled = _ndcg(queries @ passages[np.random.default_rng(1).permutation(len(passages))].T)
    random = _random_ndcg()
    print(f"\ndense nDCG@10 {quality:.3f}, shuffled passages {shuffled:.3f}, random ranking {random:.3f}")
    assert quality > 0.6
    assert quality > random + 0.3 and quality > shuffled + 0.3


def test_colbert_ranks_the_corpus_well_above_chance_and_a_shuffled_control():
    queries, passages = _colbert_vectors()
    quality = _ndcg(np.array([[maxsim(q, p) for p in passages] for q in queries]))
    mixed = _shuffled(passages, seed=2)
    shuffled = _ndcg(np.array([[maxsim(q, p) for p in mixed] for q in queries]))
    random = _random_ndcg()
    print(f"\nColBERT nDCG@10 {quality:.3f}, shuffled token vectors {shuffled:.3f}, random ranking {random:.3f}")
    assert quality > 0.6
    assert quality > random + 0.3 and quality > shuffled + 0.3


def test_cross_encoder_reranking_a_dense_shortlist_keeps_its_quality():
    corpus = _corpus()
    queries, passages = _dense_vectors()
    dense_scores = queries @ passages.T
    reranker = load(models.CROSS_ENCODER_MODEL)
    reranked = np.full_like(dense_scores, -np.inf)
    for i, query in enumerate(corpus.queries.values()):
        shortlist = np.argsort(-dense_scores[i], kind="stable")[:30]
        logits = list(reranker.rerank(query, [corpus.passage_texts[j] for j in shortlist]))
        reranked[i, shortlist] = logits
    dense, rerank = _ndcg(dense_scores), _ndcg(reranked)
    print(f"\ndense nDCG@10 {dense:.3f}, cross-encoder rerank of the dense top 30 {rerank:.3f}")
    assert rerank > 0.6 and rerank > dense - 0.1


def test_cross_encoder_prefers_the_related_passage():
    reranker = load(models.CROSS_ENCODER_MODEL)
    scores = list(reranker.rerank("interest rates at my bank", ["The loan has a low annual interest rate.",
                                                                "The jaguar hunts near the river at night."]))
    assert scores[0] > scores[1]


# ---- what lessons 5 and 6 teach, seen on the stand-ins' vectors -------------------------------------------

def _exact_top10():
    from course_utils.scoring.maxsim import PackedCorpus, score_corpus, top_k

    queries, passages = _colbert_vectors()
    packed = PackedCorpus.from_documents(passages)
    return packed, [set(top_k(score_corpus(q, packed), 10).tolist()) for q in queries]


def test_token_pooling_by_two_keeps_most_of_colberts_ndcg():
    """Lesson 6: pooling every document's token vectors by 2 halves the storage; on trained vectors (Clavié et
    al. 2024: virtually no loss at factor 2) most of the quality stays. The hashed stand-ins lost 40% here."""
    from course_utils.compression.pooling import pool_corpus
    from course_utils.scoring.maxsim import score_corpus

    queries, passages = _colbert_vectors()
    full = _ndcg(np.array([score_corpus(q, passages) for q in queries]))
    pooled_corpus = pool_corpus(passages, 2)
    pooled = _ndcg(np.array([score_corpus(q, pooled_corpus) for q in queries]))
    assert pooled >= 0.85 * full, (pooled, full)


def test_binary_search_with_rescoring_recovers_the_exact_top_10_as_oversampling_grows():
    from course_utils.compression.binary import BinaryCorpus

    queries, _ = _colbert_vectors()
    packed, exact = _exact_top10()
    binary = BinaryCorpus.from_corpus(packed)
    recall = {factor: float(np.mean([len(set(binary.search(q, 10, oversampling=factor)[0].tolist()) & top) / 10
                                     for q, top in zip(queries, exact)])) for factor in (1, 2, 4, 8)}
    assert recall[1] <= recall[2] <= recall[4] <= recall[8] and recall[4] >= 0.9, recall
    assert recall[8] > recall[1] + 0.05, recall


def test_muvera_fde_dot_products_find_the_exact_maxsim_top_10():
    """Lesson 5: MUVERA's fixed-dimensional encodings stand in for MaxSim: per query, most of the exact
    MaxSim top 10 is among the FDE's top 50 (a random top 50 of 218 passages holds about 23%)."""
    from fastembed import LateInteractionTextEmbedding
    from fastembed.postprocess import Muvera

    from course_utils.scoring.maxsim import top_k

    queries, passages = _colbert_vectors()
    _, exact = _exact_top10()
    muvera = Muvera.from_multivector_model(LateInteractionTextEmbedding(models.LATE_INTERACTION_MODEL))
    fde_passages = np.array([muvera.process_document(p) for p in passages])
    found = [len(set(top_k(fde_passages @ muvera.process_query(q), 50).tolist()) & top) / 10
             for q, top in zip(queries, exact)]
    assert np.mean(found) >= 0.6, np.mean(found)
