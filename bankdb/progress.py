"""A progress bar on stderr, for the commands that move many rows (seed --users, import)."""

from __future__ import annotations

import sys
import time


def bar(label: str, done: int, total: int, started: float) -> None:
    """Redraw `label [####   ] done/total (rate/s)`; a newline once done reaches total."""
    width = 30
    filled = width * done // max(total, 1)
    rate = done / max(time.monotonic() - started, 1e-9)
    sys.stderr.write(f"\r  {label:14} [{'#' * filled}{' ' * (width - filled)}] {done:,}/{total:,} ({rate:,.0f}/s)")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()
