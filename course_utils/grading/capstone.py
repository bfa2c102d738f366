"""The capstone's held-out test cell: its grading version, and its points decided outside the kernel.

A lesson whose source folder holds :data:`HELDOUT` (``solutions/<lesson>/heldout/queries.jsonl`` and
``qrels.tsv``, the instructor's held-out split) and a test cell that calls ``dev_check(build_pipeline)``
(:func:`course_utils.lesson.capstone.dev_check`) is graded this way:

1. the test cell's grading version calls :func:`course_utils.lesson.capstone.heldout_run` (loaded afresh
   from its file) with the held-out **query texts only**; the judgements never enter the kernel, and the
   held-out folder is never copied into the grading copy's release or the kernel's working folder;
2. the run publishes one record per step (:data:`course_utils.lesson.capstone.RECORD_STEPS`), taken from the
   running test cell's messages like every check's record, and the grader notes when each arrived
   (:class:`course_utils.grading.execution.RunRecord` ``arrivals``);
3. :func:`verdict` computes nDCG@10 and recall@10 of the three rankings (the student's pipeline, BM25,
   dense -> ColBERT) against the held-out judgements, the times per query from the arrival times, and the
   points of the rubric (:data:`course_utils.lesson.capstone.POINTS`), with a plain sentence for every point
   lost. A step that never arrived (the pipeline crashed, the cell hit its time or memory limit), arrived
   twice or holds something else costs the points that needed it, never the grader.

Guards: a step must arrive exactly once and in order, and a held-out cell the grader had to stop (time out,
dead kernel) earns nothing, whatever records came before; the run catches every exception of the student's
code (``SystemExit`` and interrupts too), so it cannot be cut short between two of its own records.

What a notebook can still do: everything in the kernel runs in the student's process. The quality points
cannot be faked there (they need the judgements, which never enter it), but code that tampers with the
kernel's messaging or the course's code in its kernel could fake the bytes, build and time lines (3 points),
or slow BM25 down or spoil the baselines' rankings. Every student's numbers, baselines included, are kept in
the grading record and shown in the class report's leaderboard table, where one far from the class's stands
out.
"""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import course_utils.lesson.capstone as lesson_capstone
import course_utils.lesson.checks
from course_utils.grading import trusted
from course_utils.lesson.capstone import BUDGET, POINTS, RECORD_STEPS, check_rankings
from course_utils.scoring import metrics

__all__ = ["HELDOUT", "attach", "grading_source", "is_capstone_cell", "load_heldout", "summary_lines", "verdict",
           "verdicts"]

#: The folder of a lesson's source that holds its held-out split (never released, never graded in).
HELDOUT = "heldout"
_CALL = trusted.CAPSTONE_CALL


def is_capstone_cell(source: str) -> bool:
    """Whether a test cell's source is the capstone's held-out test cell."""
    return _CALL in source


def load_heldout(folder: Path) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """({query id: text}, {query id: {passage id: grade}}) of a held-out folder.

    Raises:
        ValueError: the folder or one of its two files is missing, or a query has no judgement.
    """
    folder = Path(folder)
    if not (folder / "queries.jsonl").is_file() or not (folder / "qrels.tsv").is_file():
        raise ValueError(f"the capstone's held-out split is missing: {folder} must hold queries.jsonl and qrels.tsv")
    queries = {}
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            queries[row["id"]] = row["text"]
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels.tsv").open(encoding="utf-8") as table:
        for row in csv.DictReader(table, delimiter="\t"):
            qrels.setdefault(row["query_id"], {})[row["passage_id"]] = int(row["relevance"])
    missing = sorted(set(queries) - {q for q, grades in qrels.items() if any(g >= 1 for g in grades.values())})
    if missing:
        raise ValueError(f"held-out queries without a relevant passage in {folder / 'qrels.tsv'}: {missing}")
    return queries, qrels


def attach(cells: dict, source_folder: Path) -> None:
    """Give the capstone test cells of ``cells`` ({test id: TestCell}) the held-out split of ``source_folder``
    and the checks that stand for their records (no-op for other lessons).

    Raises:
        ValueError: a capstone test cell without a held-out split.
    """
    Check = trusted.Check

    for test_id, cell in cells.items():
        if cell.capstone is None:
            continue
        queries, qrels = load_heldout(Path(source_folder) / HELDOUT)
        cell.capstone = {"queries": queries, "qrels": qrels}
        cell.checks = [Check(test_id, index, f"held-out run: {step}", None, "", 0.0, True)
                       for index, step in enumerate(RECORD_STEPS)]


def grading_source(cell) -> str:
    """The held-out test cell as the grader runs it: :func:`course_utils.lesson.capstone.heldout_run` with the
    held-out query texts, loaded afresh from the course's files (the kernel's own modules are not trusted)."""
    texts = list(cell.capstone["queries"].values())
    checks_path = str(Path(course_utils.lesson.checks.__file__).resolve())
    capstone_path = str(Path(lesson_capstone.__file__).resolve())
    return (
        "import importlib.util as _course_loader\n"
        "def _course_load(name, path):\n"
        "    spec = _course_loader.spec_from_file_location(name, path)\n"
        "    module = _course_loader.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "    return module\n"
        f"_course_checks = _course_load('course_checks_for_grading', {checks_path!r})\n"
        f"_course_capstone = _course_load('course_capstone_for_grading', {capstone_path!r})\n"
        "_course_failures = []\n"
        "def _course_publish(index, value):\n"
        f"    _course_checks.publish_record({{'check': {cell.test_id!r} + '/' + str(index), 'value': value}})\n"
        f"_course_capstone.heldout_run(build_pipeline, {texts!r}, _course_publish)\n")


def _one(logged: dict, arrivals: dict, check_id: str):
    """(value, arrival time) of a step that recorded exactly one value, else (None, None)."""
    values = logged.get(check_id, [])
    times = arrivals.get(check_id, [])
    if len(values) != 1 or len(times) != 1 or not isinstance(values[0], dict):
        return None, None
    return values[0], times[0]


def _quality(rankings, qrels: dict, query_ids: list[str]) -> dict[str, float]:
    run = dict(zip(query_ids, rankings))
    return {"ndcg": statistics.mean(metrics.ndcg_at_k(run[q], qrels[q], 10) for q in query_ids),
            "recall": statistics.mean(metrics.recall_at_k(run[q], qrels[q], 10) for q in query_ids)}


def _measure(cell, logged: dict, arrivals: dict) -> tuple[dict, list[str]]:
    """The held-out run's numbers ({} parts missing) and the sentences saying what went wrong."""
    from course_utils.data import load_corpus

    steps = {name: _one(logged, arrivals, f"{cell.test_id}/{index}") for index, name in enumerate(RECORD_STEPS)}
    times = [step[1] for step in steps.values() if step[1] is not None]
    if times != sorted(times):
        return {"queries": len(cell.capstone["queries"])}, [
            "the held-out run's steps arrived out of order: code in the notebook interfered with the run"]
    query_ids = list(cell.capstone["queries"])
    qrels, n, passage_ids = cell.capstone["qrels"], len(query_ids), list(load_corpus().passages)
    details, problems = {"queries": n}, []
    begin, built = steps["begin"], steps["built"]
    if begin[0] is None or built[0] is None:
        problems.append("the held-out run did not start: the test cell stopped before build_pipeline was called "
                        "(is build_pipeline defined?)" if begin[0] is None else
                        "build_pipeline did not return: it raised an error, or ran out of time or memory")
        return details, problems
    if "error" in built[0]:
        problems.append(f"build_pipeline raised {str(built[0]['error'])[:60]} on the corpus")
        return details, problems
    details["build_s"] = built[1] - begin[1]
    stored, count = built[0].get("bytes"), built[0].get("passages")
    if isinstance(stored, int) and isinstance(count, int) and count > 0:
        details["bytes_per_passage"] = stored / count
    ready, dense, bm25 = steps["baselines_ready"], steps["dense_colbert_done"], steps["bm25_done"]
    for name, step, start in (("dense_colbert", dense, ready), ("bm25", bm25, dense)):
        rankings = (step[0] or {}).get("rankings")
        if step[0] is None or start[0] is None or check_rankings(rankings, passage_ids, 10):
            problems.append("the baselines could not be run in the notebook's kernel (the course's code there was "
                            "changed, or the cell ran out of time)")
            return details, problems
        details[name] = _quality(rankings, qrels, query_ids)
        passes = step[0].get("passes", 1) if name == "bm25" else 1
        if type(passes) is not int or not 1 <= passes <= lesson_capstone.BM25_MAX_PASSES:
            passes = lesson_capstone.BM25_MAX_PASSES  # a count the runner never sends: BM25 at its fastest
        details[name]["ms"] = (step[1] - start[1]) * 1000 / (n * passes)
    warm, done = steps["search_ready"], steps["search_done"]
    failed = next((step for step in (warm, done) if step[0] is not None and "error" in step[0]), None)
    if failed is not None:
        problems.append(f"search raised {str(failed[0]['error'])[:60]} while answering a query")
        return details, problems
    if warm[0] is None or done[0] is None:
        problems.append("search did not answer the held-out queries: it ran out of time or memory, or the "
                        "notebook interfered with the run")
        return details, problems
    rankings = done[0].get("rankings")
    problem = check_rankings(rankings, passage_ids, 10)
    if problem:
        problems.append(f"the held-out results are not valid: {problem}")
        return details, problems
    details["pipeline"] = _quality(rankings, qrels, query_ids)
    details["pipeline"]["ms"] = (done[1] - warm[1]) * 1000 / n
    details["time_ratio"] = details["pipeline"]["ms"] / max(details["bm25"]["ms"], 1e-6)
    return details, problems


def verdict(cell, logged: dict, arrivals: dict, stopped: str | None = None):
    """The capstone test cell's :class:`course_utils.grading.trusted.Verdict`: points line by line of the
    rubric, a sentence for each point lost, and the measured numbers in ``details``. ``stopped``: why the
    grader stopped the cell (it timed out, or the kernel died), when it did: then no point counts, whatever
    records arrived before (a run that did not finish cannot vouch for them)."""
    Verdict = trusted.Verdict

    details, problems = _measure(cell, logged, arrivals)
    if stopped:
        details.pop("pipeline", None)
        problems.append(f"the held-out run did not finish: the test cell {stopped}")
    earned = {name: 0.0 for name in POINTS}
    lines = list(problems)
    mine = details.get("pipeline")
    if mine is not None:
        for name, label in (("bm25", "the BM25 baseline"), ("dense_colbert", "the dense -> ColBERT baseline")):
            theirs = details[name]["ndcg"]
            key = "beats_bm25" if name == "bm25" else "beats_dense_colbert"
            if mine["ndcg"] > theirs:
                earned[key] = POINTS[key]
            else:
                lines.append(f"held-out nDCG@10 {mine['ndcg']:.3f} is not above {label}'s {theirs:.3f}")
        useful = mine["ndcg"] > details["bm25"]["ndcg"]
        measured = {"bytes_per_passage": details.get("bytes_per_passage"), "query_time_ratio": details["time_ratio"],
                    "build_seconds": details.get("build_s")}
        words = {"bytes_per_passage": ("bytes stored per passage", ",.0f"),
                 "query_time_ratio": ("x the BM25 baseline's time per query", ".1f"),
                 "build_seconds": ("s to build", ".1f")}
        for name, value in measured.items():
            label, form = words[name]
            if value is None or value > BUDGET[name]:
                shown = "not measured" if value is None else format(value, form)
                lines.append(f"over budget: {shown} {label} (at most {BUDGET[name]:{form}})")
            elif useful:
                earned[name] = POINTS[name]
        if not useful:
            lines.append("the budget points count only for a pipeline above BM25's held-out nDCG@10")
    details["points"] = earned
    score = float(sum(earned.values()))
    return Verdict(cell.test_id, cell.points, min(score, cell.points), lines, details)


def verdicts(cells: dict, logged: dict, arrivals: dict, stopped: dict[str, str] | None = None) -> dict:
    """Every test cell's verdict: :func:`course_utils.grading.trusted.verdicts` for the checks, :func:`verdict` for
    the capstone's held-out cell (``arrivals``: {check id: [the grader's clock when each record arrived]};
    ``stopped``: {test id: why the grader stopped that cell})."""
    result = trusted.verdicts(cells, logged)
    for test_id, cell in cells.items():
        if cell.capstone is not None:
            result[test_id] = verdict(cell, logged, arrivals, (stopped or {}).get(test_id))
    return {test_id: result[test_id] for test_id in cells}


def summary_lines(details: dict) -> list[str]:
    """The held-out numbers in words, for the feedback page (no judgement, no query text)."""
    lines = []
    mine = details.get("pipeline")
    if mine:
        lines.append(f"Your pipeline on {details['queries']} held-out queries: nDCG@10 {mine['ndcg']:.3f}, "
                     f"recall@10 {mine['recall']:.3f}, {mine['ms']:.1f} ms per query "
                     f"({details['time_ratio']:.1f} x BM25's time).")
    for name, label in (("bm25", "BM25 baseline"), ("dense_colbert", "dense -> ColBERT baseline")):
        if name in details:
            lines.append(f"The {label} in the same run: nDCG@10 {details[name]['ndcg']:.3f}, "
                         f"recall@10 {details[name]['recall']:.3f}, {details[name]['ms']:.2f} ms per query.")
    if "bytes_per_passage" in details:
        lines.append(f"Stored: {details['bytes_per_passage']:,.0f} bytes per passage; built in "
                     f"{details.get('build_s', 0):.1f} s.")
    return lines
