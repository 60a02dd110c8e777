"""Every command on every class of bad input: one line that says what and where, a
documented exit code (1 data, 2 usage, 3 internal), and never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from omnioffer.cli import main

GOLDEN_MODELS = Path(__file__).parents[1] / "golden" / "models"
VERSION = (GOLDEN_MODELS / "current").read_text().strip()


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit code and stderr of `omnioffer ARGS` in a subprocess, as a user runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "omnioffer", "--quiet", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert "ExceptionGroup" not in done.stderr, done.stderr
    return done.returncode, done.stderr


def error_line(stderr: str) -> str:
    """The one line the command printed about what went wrong."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture
def models(tmp_path: Path) -> Path:
    """A private copy of the golden registry (activate writes `current`)."""
    return Path(shutil.copytree(GOLDEN_MODELS, tmp_path / "models"))


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[policy]\ndaily_capp = 1\n", ["[policy]", "daily_capp", "known keys"]),
        ("[policy]\ndaily_cap = -1\n", ["[policy] daily_cap", ">= 0", "got -1"]),
        ("[policy]\nlevers = { o0079 = 'big' }\n", ["[policy] levers", "float"]),
        ("[policy]\nmax_per_category = 0\n", ["[policy] max_per_category", ">= 1"]),
        ("port = 'x'\n", ["port", "int"]),
        ("prot = 80\n", ["unknown key 'prot'"]),
        ("as_of = 'yesterday'\n", ["as_of", "yesterday"]),
        ("[policy\n", ["not valid TOML"]),
    ],
)
def test_serve_refuses_a_bad_settings_file_in_one_line(
    tmp_path: Path, text: str, names: list[str]
) -> None:
    path = toml(tmp_path, text)
    code, stderr = run("serve", "--config", path, "--port", "0", cwd=tmp_path)
    assert code == 2
    line = error_line(stderr)
    assert line.startswith("omnioffer serve: error: ")
    assert str(path.name) in line
    for name in names:
        assert name in line


def test_serve_refuses_a_bad_policy_from_the_environment(tmp_path: Path) -> None:
    code, stderr = run("serve", cwd=tmp_path, env={"OMNIOFFER_POLICY": '{"daily_cap": "six"}'})
    assert code == 2
    assert "[policy] daily_cap: Expected `int`" in error_line(stderr)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[cf]\nfactorz = 8\n", ["[cf]", "factorz", "known"]),
        ("[cf]\nfactors = 'many'\n", ["[cf] factors", "int"]),
        ("[cf]\nfactors = -3\n", ["[cf] factors", "> 0", "-3"]),
        ("[item_ranker]\nholdout = 1.5\n", ["[item_ranker] holdout", "1.5"]),
        ("[interactions]\nhalf_life_days = -1\n", ["[interactions] half_life_days", ">= 0"]),
        ("[cff]\n", ["unknown section", "cff"]),
    ],
)
def test_train_refuses_a_bad_config_in_one_line(
    tmp_path: Path, text: str, names: list[str]
) -> None:
    (tmp_path / "data").mkdir()
    path = toml(tmp_path, text)
    code, stderr = run("train", "--data", "data", "--config", path, cwd=tmp_path)
    assert code == 2
    line = error_line(stderr)
    assert path.name in line
    for name in names:
        assert name in line


def test_missing_versions_name_the_version_and_registry(tmp_path: Path, models: Path) -> None:
    store = f"sqlite:///{tmp_path / 's.sqlite'}"
    for args in (("activate", "v-nope"), ("materialize", "--version", "v-nope", "--store", store)):
        code, stderr = run(*args, "--models", models, cwd=tmp_path)
        assert code == 1
        assert f"model version v-nope not found in {models}" in error_line(stderr)
    empty = tmp_path / "empty"
    empty.mkdir()
    code, stderr = run("materialize", "--models", empty, "--store", store, cwd=tmp_path)
    assert code == 1
    assert "no current model version" in error_line(stderr)


def test_empty_and_absent_stores_are_named(tmp_path: Path, models: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "omnioffer", "versions", "--models", str(models)],
        capture_output=True, text=True, check=False, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"feature store: none read (embedded store {tmp_path.resolve()}" in done.stdout
    code, stderr = run("export-events", "--out", tmp_path / "x", cwd=tmp_path)
    assert code == 2
    assert "no feature store: pass --store URL" in error_line(stderr)
    code, stderr = run("versions", "--models", models, "--store", "ftp://x", cwd=tmp_path)
    assert code == 1
    assert "unsupported store URL scheme 'ftp'" in error_line(stderr)


def test_an_unreachable_redis_is_one_line(tmp_path: Path, models: Path) -> None:
    code, stderr = run("versions", "--models", models, "--store", "redis://127.0.0.1:1/0",
                       cwd=tmp_path)  # fmt: skip
    assert code == 1
    assert "redis at redis://127.0.0.1:1/0 unavailable" in error_line(stderr)


def test_a_bad_channel_list_in_the_environment_is_a_usage_error(tmp_path: Path) -> None:
    code, stderr = run("validate", "data", cwd=tmp_path, env={"OMNIOFFER_CHANNELS": " , "})
    assert code == 2
    assert "OMNIOFFER_CHANNELS" in stderr


def test_tiny_data_generates(tmp_path: Path) -> None:
    """5 customers of seed 2 hold no staple at all: the generator used to crash on it."""
    code, stderr = run("generate", "--out", "tiny", "--customers", "5", "--days", "60",
                       "--seed", "2", cwd=tmp_path)  # fmt: skip
    assert code == 0, stderr
    assert (tmp_path / "tiny" / "data").is_dir()


def test_an_unexpected_error_is_one_line_with_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import training.simulate.generate as generator

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(generator, "generate", broken)
    monkeypatch.delenv("OMNIOFFER_DEBUG", raising=False)
    assert main(["generate", "--out", str(tmp_path / "g")]) == 3
    line = error_line(capsys.readouterr().err)
    assert line.startswith("omnioffer generate: internal error: RuntimeError: boom second line")
    assert "OMNIOFFER_DEBUG=1" in line
    monkeypatch.setenv("OMNIOFFER_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(["generate", "--out", str(tmp_path / "g")])
