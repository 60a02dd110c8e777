"""`omnioffer keys create --rate/--burst`: a key's own rate limit, shown by `keys list`,
refused by name when it makes no sense."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

KEYS = [sys.executable, "-m", "omnioffer", "keys"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KEYS, *args], capture_output=True, text=True, timeout=60, check=False)


def test_a_key_gets_its_own_limit_and_list_shows_it(tmp_path: Path) -> None:
    file = str(tmp_path / "k.json")
    own = _run("create", "--name", "app", "--scopes", "decide", "--rate", "5", "--burst", "10",
               "--keys-file", file)  # fmt: skip
    free = _run("create", "--name", "batch", "--scopes", "events", "--rate", "0",
                "--keys-file", file)  # fmt: skip
    plain = _run("create", "--name", "pos", "--scopes", "events", "--keys-file", file)
    assert own.returncode == free.returncode == plain.returncode == 0, own.stderr
    records = {k["name"]: k for k in json.loads(Path(file).read_text())["keys"]}
    assert (records["app"]["rate_per_s"], records["app"]["burst"]) == (5.0, 10)
    assert records["batch"]["rate_per_s"] == 0.0 and "burst" not in records["batch"]
    assert "rate_per_s" not in records["pos"]  # the default: the format of old files
    listed = _run("list", "--keys-file", file).stdout
    lines = {line.split()[1]: line for line in listed.splitlines()}
    assert "5/s, burst 10" in lines["app"]
    assert "no rate limit" in lines["batch"] and "default rate limit" in lines["pos"]


def test_a_limit_that_makes_no_sense_is_a_usage_error(tmp_path: Path) -> None:
    file = str(tmp_path / "k.json")
    for flags, named in ((["--burst", "3"], "--burst"), (["--rate", "-1"], "--rate"),
                         (["--rate", "2", "--burst", "0"], "--burst")):  # fmt: skip
        done = _run("create", "--name", "x", "--scopes", "decide", *flags, "--keys-file", file)
        assert done.returncode == 2 and named in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert not Path(file).exists()  # nothing written
