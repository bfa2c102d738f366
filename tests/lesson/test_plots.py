"""Plots draw headless, label what they show and mark what they claim."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from course_utils.scoring.maxsim import maxsim
from course_utils.lesson.plots import score_bars, similarity_heatmap

matplotlib.use("Agg")

Q = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
D = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]], dtype=np.float32)


def test_heatmap_shows_matrix_labels_best_matches_and_maxsim(tmp_path):
    fig, ax = similarity_heatmap(Q, D, ["q0", "q1", "q2"], ["d0", "d1", "d2", "d3"], title="Example")
    image = ax.images[0]
    np.testing.assert_allclose(image.get_array(), Q @ D.T)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["q0", "q1", "q2"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["d0", "d1", "d2", "d3"]
    marks = ax.collections[0].get_offsets()
    assert marks[:, 0].tolist() == [1, 3, 3] and marks[:, 1].tolist() == [0, 1, 2]
    assert ax.get_title() == f"Example: MaxSim = {maxsim(Q, D):.3f}"
    fig.savefig(tmp_path / "heatmap.png")
    assert (tmp_path / "heatmap.png").stat().st_size > 1000


def test_heatmap_draws_on_given_axes_without_labels():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    returned_fig, ax = similarity_heatmap(Q, D, ax=axes[1])
    assert returned_fig is fig and ax is axes[1]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2"]
    plt.close(fig)


def test_heatmap_rejects_misaligned_labels_and_bad_vectors():
    with pytest.raises(ValueError, match="query_labels has 2 labels but there are 3"):
        similarity_heatmap(Q, D, ["a", "b"])
    with pytest.raises(ValueError, match="document_labels"):
        similarity_heatmap(Q, D, None, ["a"])
    with pytest.raises(ValueError, match="document"):
        similarity_heatmap(Q, np.ones((2, 3)))


def test_score_bars_highlight_the_best_and_print_values():
    fig, ax = score_bars({"doc A": 0.66, "doc B": 0.43, "doc C": -0.2}, title="Dense")
    bars = ax.patches
    assert [round(b.get_width(), 2) for b in bars] == [0.66, 0.43, -0.2]
    colours = [b.get_facecolor() for b in bars]
    assert colours[0] != colours[1] and colours[1] == colours[2]
    assert [t.get_text() for t in ax.texts] == ["0.66", "0.43", "-0.2"]
    assert ax.get_title() == "Dense"


def test_score_bars_from_sequence_needs_matching_labels():
    fig, ax = score_bars([1.0, 3.0], ["a", "b"])
    assert ax.patches[1].get_facecolor() != ax.patches[0].get_facecolor()
    with pytest.raises(ValueError, match="labels has 1 labels but there are 2"):
        score_bars([1.0, 3.0], ["a"])
    with pytest.raises(ValueError, match="NaN"):
        score_bars([float("nan")], ["a"])


def test_colour_scale_and_highlight_can_be_set():
    fig, ax = similarity_heatmap(Q, D, vmin=-1, vmax=1)
    assert ax.images[0].get_clim() == (-1, 1)
    fig, ax = score_bars([1.0, 3.0], ["a", "b"], highlight=False)
    assert ax.patches[0].get_facecolor() == ax.patches[1].get_facecolor()
