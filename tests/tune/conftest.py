"""The tiny model and repository the training tests share; they skip when the tune extra is absent."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.tune.sample import SOURCE, make_repo

TUNE_MISSING = [m for m in ("torch", "transformers", "peft", "gguf") if importlib.util.find_spec(m) is None]
needs_tune = pytest.mark.skipif(
    bool(TUNE_MISSING), reason="the tune extra is not installed (pip install 'lingcode[tune]')"
)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer random Gemma 3 with a tokenizer trained on the sample module, as Hugging Face weights."""
    if TUNE_MISSING:
        pytest.skip("the tune extra is not installed (pip install 'lingcode[tune]')")
    from tests.tune.tiny import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", [SOURCE] * 4)


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    """A git repository of ten copies of the sample module (seed 0 holds two of them out for validation)."""
    return make_repo(tmp_path / "repo", {f"m{i}.py": SOURCE for i in range(10)})
