"""Record the expected outputs of the notebook cells tagged ``nbval-check-output``.

Run ``.venv/bin/python -m tests.record_outputs [lesson ...]`` after changing such
a cell. It executes the lessons in ``solutions/`` (all, or the ones named) with
the offline stand-in models and stores the outputs of the tagged cells in
``tests/expected_outputs.json`` (naming lessons updates their records only)
(see ``tests/notebook_items.py``). Only cells whose output does not depend on a
model may carry the tag: the tests compare them with the real models too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_utils.models.standins import standin_models
from tests.notebook_items import CHECK_TAG, EXPECTED_OUTPUTS, load_expected, source_key

ROOT = Path(__file__).resolve().parent.parent
_KEPT = ("output_type", "name", "text", "data")


def recorded_outputs(path: Path) -> dict[str, list]:
    """Run the notebook at ``path`` and return {source key: outputs} of its tagged cells."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
                   ).execute()
    found = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and CHECK_TAG in cell.metadata.get("tags", []):
            outputs = [{k: v for k, v in output.items() if k in _KEPT} for output in cell.outputs]
            for output in outputs:  # images and execution counts are never compared
                output.get("data", {}).pop("image/png", None)
            found[source_key(cell.source)] = outputs
    return found


def main(lessons: list[str]) -> None:
    paths = sorted((ROOT / "solutions").glob("*/*.ipynb"))
    if lessons:
        paths = [p for p in paths if p.parent.name in lessons]
        if len(paths) != len(set(lessons)):
            raise SystemExit(f"unknown lesson among {lessons}; lessons are the folders of solutions/")
    expected = load_expected() if lessons else {}
    with standin_models():
        for path in paths:
            expected.update(recorded_outputs(path))
            print(f"recorded {path.relative_to(ROOT)}")
    EXPECTED_OUTPUTS.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(expected)} cell outputs to {EXPECTED_OUTPUTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
