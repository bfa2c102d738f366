"""A Qdrant Edge shard that lives in a temporary folder of its own.

The course's Edge indexes (exact MaxSim, quantized, hybrid, pages) open one shard in a fresh
folder; :class:`TemporaryShard` gives them one way to close it and delete the folder, by hand
or at the end of a ``with`` block.
"""

from __future__ import annotations

import shutil

__all__ = ["TemporaryShard"]


class TemporaryShard:
    """Mixin for a class whose ``self.shard`` (an open ``qdrant_edge.EdgeShard``) lives in ``self.folder``."""

    def close(self) -> None:
        """Close the shard and delete its folder (safe to call twice)."""
        if getattr(self, "shard", None) is not None:
            self.shard.close()
            self.shard = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
