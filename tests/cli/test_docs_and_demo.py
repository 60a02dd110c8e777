"""What a new user meets first: the README's commands, the examples' event ids, what
git ignores after a demo, and the demo's parting words when it stops its server."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from omnioffer.cli.demo import serve_demo

ROOT = Path(__file__).parents[2]
GOLDEN_MODELS = ROOT / "tests" / "golden" / "models"


def test_the_readme_runs_the_command_as_installed() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "uv run omnioffer" not in readme  # uv is private to .tools/, not on PATH
    assert "`.venv/bin/omnioffer`" in readme


def test_the_readme_and_api_examples_use_their_own_event_ids() -> None:
    """Following both must not make the second a silent duplicate of the first."""
    ids = {
        doc: re.findall(r'"event_id": "([^"]+)"', (ROOT / doc).read_text())
        for doc in ("README.md", "docs/api.md")
    }
    assert ids["README.md"] and ids["docs/api.md"]
    assert not set(ids["README.md"]) & set(ids["docs/api.md"])


@pytest.mark.parametrize(
    "path", ["omnioffer-store.sqlite", "omnioffer-store.sqlite-wal", "demo-data/store.sqlite",
             "models/20260101T000000Z-0/manifest.json", "models/current", "omnioffer.toml"],
)  # fmt: skip
def test_what_serve_and_demo_write_is_git_ignored(path: str) -> None:
    done = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
    assert done.returncode == 0, f"{path} is not ignored"


def test_the_demo_says_how_to_serve_again_before_its_curls(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    models = Path(shutil.copytree(GOLDEN_MODELS, tmp_path / "models"))
    with socket.socket() as s:  # the demo takes its port, or a free one if it is taken
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    settings = tmp_path / "omnioffer.toml"
    assert serve_demo(models, tmp_path, port=port, keep_serving=False, settings_file=settings) == 0
    out, err = capfd.readouterr()  # the server's log reaches the terminal's stderr
    again = out.index("The service stops now (--exit-after-decision). Serve it again with:")
    command = out[again:].splitlines()[1].strip()
    assert command.startswith("omnioffer serve --port ")
    assert f"--store sqlite:///{(tmp_path / 'store.sqlite').resolve()}" in command
    assert f"--models {models}" in command and "--as-of " in command
    plain = out[again:].splitlines()[2].strip()
    assert plain == f"or just `omnioffer serve` here (it reads {settings})"
    assert again < out.index("Try it yourself (once it serves):")
    assert "route=/v1/decisions status=200 " in err  # the demo shows the access log
