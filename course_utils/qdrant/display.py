"""Showing ranked Qdrant results side by side, as a text table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

__all__ = ["format_side_by_side"]


def format_side_by_side(results: Mapping[str, Sequence], label: Callable[[object], str] | None = None,
                        *, width: int = 24) -> str:
    """Several ranked result lists as one text table, one column per list.

    Args:
        results: ``{column title: hits}``, each ``hits`` a list of ``ScoredPoint`` (what
            ``query_points(...).points`` returns), best first.
        label: what to show for a hit before its score (default: its id).
        width: characters per column.

    Returns:
        the table: a header line, then one line per rank with ``label score`` in each column
        (a column that has run out of hits is left blank).
    """
    label = label or (lambda hit: str(hit.id))
    columns = list(results.items())
    lines = ["rank  " + "".join(f"{title[:width - 1]:<{width}}" for title, _ in columns)]
    for rank in range(max((len(hits) for _, hits in columns), default=0)):
        cells = []
        for _, hits in columns:
            cell = f"{label(hits[rank])} {hits[rank].score:.4g}" if rank < len(hits) else ""
            cells.append(f"{cell[:width - 1]:<{width}}")
        lines.append(f"{rank + 1:<6}" + "".join(cells))
    return "\n".join(line.rstrip() for line in lines)
