"""fast-plaid on the benchmark's collection, run by ``benchmarks.plaid_index`` in fast-plaid's own environment.

    /tmp/fastplaid-venv/bin/python benchmarks/fastplaid_runner.py FOLDER OUT.json [n_ivf_probe:n_full_scores ...]

fast-plaid needs torch, which the course never depends on: it lives in a separate virtual environment
(``python3 -m venv /tmp/fastplaid-venv && /tmp/fastplaid-venv/bin/pip install fast-plaid``). This script
imports only numpy, torch and fast_plaid (never the course): it reads ``vectors.npy``, ``offsets.npy`` and
``queries.npy`` from FOLDER, builds a fast-plaid index with 2-bit residuals, searches all queries in one call per
setting (and times one query alone), and writes ``{"build_seconds", "index_bytes", "settings": {name: {"ms",
"top"}}}`` to OUT.json.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from fast_plaid import search


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str]) -> int:
    folder, out = Path(argv[0]), Path(argv[1])
    settings = [tuple(int(x) for x in s.split(":")) for s in argv[2:]] or [(8, 4096)]
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    offsets = np.load(folder / "offsets.npy")
    queries = torch.from_numpy(np.load(folder / "queries.npy"))
    documents = [torch.from_numpy(np.array(vectors[offsets[k]:offsets[k + 1]]))
                 for k in range(len(offsets) - 1)]
    torch.set_num_threads(max(1, torch.get_num_threads()))
    report = {"torch": torch.__version__, "threads": torch.get_num_threads(), "settings": {}}
    with tempfile.TemporaryDirectory(prefix="fastplaid-index-") as index_folder:
        index = search.FastPlaid(index=index_folder, device="cpu")
        start = time.perf_counter()
        index.create(documents_embeddings=documents, nbits=2)
        report["build_seconds"] = time.perf_counter() - start
        report["index_bytes"] = folder_bytes(Path(index_folder))
        del documents
        for n_ivf_probe, n_full_scores in settings:
            options = {"top_k": 10, "n_ivf_probe": n_ivf_probe, "n_full_scores": n_full_scores,
                       "show_progress": False}
            index.search(queries_embeddings=queries[:1], **options)  # warm-up
            start = time.perf_counter()  # one call for every query: fast-plaid's own batching
            hits = index.search(queries_embeddings=queries, **options)
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            index.search(queries_embeddings=queries[:1], **options)
            single = time.perf_counter() - start
            report["settings"][f"fast-plaid probe={n_ivf_probe} full={n_full_scores}"] = {
                "ms": 1000 * seconds / len(queries), "single query ms": 1000 * single,
                "top": [[int(passage) for passage, _ in found] for found in hits]}
    report["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out.write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
