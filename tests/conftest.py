"""Shared fixtures: real parts on temporary folders (no mocks).

* ``model_dir`` — the real all-MiniLM-L6-v2 int8 model, assembled once per test session
  from the installed PyPI packages (as ``make install`` does).
* ``config`` — settings on a fresh temporary data dir, parametrised over both vector-store
  backends where a test asks for ``any_backend_config``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mem0_mcp import AsyncMemory, MemoryConfig
from mem0_mcp.model_bundle import ensure_default_model

# Settings from the developer's shell must not leak into tests.
for _name in [n for n in os.environ if n.startswith("MEM0_MCP_")]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_default_model(tmp_path_factory.mktemp("models"))


@pytest.fixture
def config(tmp_path: Path, model_dir: Path) -> MemoryConfig:
    return MemoryConfig(data_dir=tmp_path / "data", embedding_model_path=model_dir)


@pytest.fixture(params=["edge", "qdrant"])
def any_backend_config(request: pytest.FixtureRequest, config: MemoryConfig) -> MemoryConfig:
    return config.model_copy(update={"vector_store": request.param})


@pytest.fixture
async def memory(any_backend_config: MemoryConfig) -> AsyncIterator[AsyncMemory]:
    async with AsyncMemory(any_backend_config) as mem:
        yield mem
