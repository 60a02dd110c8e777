"""Fixtures of the decision-path unit tests: the tiny version and a default policy."""

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
