"""Where things are: the repository, and the sample files reconbot ships."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "reconbot" / "samples"
