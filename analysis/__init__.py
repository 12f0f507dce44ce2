"""Statistics and plots over many seeded runs: anytime regret curves with confidence bands,
final-regret distributions, rank tables, predictor plots. Nothing imports ``analysis``."""

from __future__ import annotations

__all__: list[str] = []
