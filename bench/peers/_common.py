"""Paths and environment shared by the peer harnesses (stdlib only, any Python >= 3.11).

Everything the peers need lives under ``bench/`` and is gitignored:

* ``bench/.venvs/<peer>/``      one virtualenv per peer project (see ``setup.py``)
* ``bench/.cache/fastembed/``   a fastembed cache laid out as Hugging Face hub snapshots, so
                                peers that only take a model *name* load our offline files
"""

from __future__ import annotations

import os
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent
BENCH_DIR = PEERS_DIR.parent
ROOT_DIR = BENCH_DIR.parent
VENVS_DIR = BENCH_DIR / ".venvs"
CACHE_DIR = BENCH_DIR / ".cache"
FASTEMBED_CACHE = CACHE_DIR / "fastembed"
MAIN_VENV_PYTHON = ROOT_DIR / ".venv" / "bin" / "python"

# fastembed model names the peers ask for, and the hub repos fastembed 0.9 maps them to.
EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_REPO = "Qdrant/all-MiniLM-L6-v2-onnx"
BM25_MODEL = "Qdrant/bm25"
BM25_REPO = "Qdrant/bm25"
EMBEDDING_DIMS = 384

PEER_NAMES = ("mem0", "qdrant-mcp")


def venv_dir(peer: str) -> Path:
    return VENVS_DIR / peer


def venv_python(peer: str) -> Path:
    return venv_dir(peer) / "bin" / "python"


def repo_cache_dir(repo: str, cache: Path = FASTEMBED_CACHE) -> Path:
    """``models--Org--name``: the hub's cache folder for a repo."""
    return cache / ("models--" + repo.replace("/", "--"))


def peer_env(extra: dict[str, str] | None = None, *, inherit: bool = True) -> dict[str, str]:
    """Environment for a peer process: offline model cache, no telemetry, no hub traffic.

    ``HF_HUB_OFFLINE=1`` makes fastembed (>= 0.9) resolve models from the cache only, so a
    missing file fails at once instead of trying the network.
    """
    env = dict(os.environ) if inherit else {}
    # Never let a peer pick up real credentials or an LLM endpoint from the caller's shell.
    for key in (
        "OPENAI_API_KEY",
        "OPENROUTER_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "QDRANT_URL",
        "QDRANT_API_KEY",
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
    ):
        env.pop(key, None)
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "FASTEMBED_CACHE_PATH": str(FASTEMBED_CACHE),
            "MEM0_TELEMETRY": "False",
            "DO_NOT_TRACK": "1",
            "ANONYMIZED_TELEMETRY": "False",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if extra:
        env.update(extra)
    return env


def installed_versions(peer: str) -> dict[str, str]:
    """Versions recorded by ``setup.py`` in the peer venv's stamp (empty if not set up)."""
    import json

    try:
        stamp = json.loads((venv_dir(peer) / ".peer-stamp").read_text())
    except (OSError, ValueError):
        return {}
    return dict(stamp.get("installed") or {})


def missing_setup(peer: str) -> str | None:
    """A human message if ``setup.py`` has not been run for ``peer``, else None."""
    if not venv_python(peer).exists():
        return f"peer venv {venv_dir(peer)} is missing: run `python bench/peers/setup.py` first"
    for repo in (EMBEDDING_REPO, BM25_REPO):
        if not (repo_cache_dir(repo) / "refs" / "main").is_file():
            return (
                f"offline model {repo} is not laid out under {FASTEMBED_CACHE}: "
                "run `python bench/peers/setup.py` first"
            )
    return None
