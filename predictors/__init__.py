"""Performance predictors with scikit-learn conventions, their evaluation harness, and the
surrogate benchmark built from them."""

from __future__ import annotations

__all__: list[str] = []
