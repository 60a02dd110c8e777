from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omnioffer.vocab import UNKNOWN, Vocabulary


def test_round_trip_and_unknown_ids(tmp_path: Path) -> None:
    vocab = Vocabulary(["i9", "i1", "007"])
    assert vocab.indices(["007", "nope", "i9"]).tolist() == [2, UNKNOWN, 0]
    assert vocab.index("i1") == 1
    assert vocab.lookup(np.array([2, 0])) == ["007", "i9"]
    np.save(tmp_path / "v.npy", vocab.to_array())
    loaded = Vocabulary.from_array(np.load(tmp_path / "v.npy", allow_pickle=False))
    assert loaded == vocab
    assert "007" in loaded and "7" not in loaded


def test_duplicates_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        Vocabulary(["a", "b", "a"])
