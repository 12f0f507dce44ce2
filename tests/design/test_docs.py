"""The README's Python snippets run as written, and the README and docs point only inside the
repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readme_python_snippets_run_as_written(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 3
    script = tmp_path / "readme.py"
    script.write_text("\n".join(blocks))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_docs_point_only_inside_the_repository() -> None:
    bad = []
    for doc in DOCS:
        text = doc.read_text()
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if re.match(r"https?://", target):
                continue
            if (
                not (doc.parent / target).resolve().is_relative_to(ROOT)
                or not (doc.parent / target).exists()
            ):
                bad.append(f"{doc.name}: link to {target}")
        for phrase in ("DESIGN.md", "shared folder", "/work/", "../shared"):
            if phrase in text:
                bad.append(f"{doc.name}: mentions {phrase!r}")
    assert not bad, "\n".join(bad)
