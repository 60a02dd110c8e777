"""Fixtures of the online unit tests (decide, features, version): the tiny version of
decide_world and a default policy. Its folder is on sys.path, so every unit folder
can import decide_world."""

from __future__ import annotations

import pytest
from decide_world import make_model

from omnioffer.decide.policy import Policy
from omnioffer.version.model import VersionModel


@pytest.fixture
def model() -> VersionModel:
    return make_model()


@pytest.fixture
def policy() -> Policy:
    return Policy()
