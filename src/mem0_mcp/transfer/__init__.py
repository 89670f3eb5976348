"""Moving a store between backends: ``mem0-mcp export`` and ``mem0-mcp import``.

    mem0-mcp export store.jsonl.gz                          # the configured store → file
    MEM0_MCP_QDRANT_URL=http://qdrant:6333 mem0-mcp import store.jsonl.gz   # file → server

The file is JSON Lines (UTF-8; gzip-compressed when the name ends in ``.gz``), one object
per line, told apart by ``type``:

1. ``{"type": "header", "format": "mem0-mcp-export", "version": 1, "embedding_model": str,
   "dim": int, "exported_at": ISO 8601, "source": {"vector_store", "collection"},
   "memories": int, "history": int}`` — the counts as the export began.
2. One ``{"type": "memory", "id": UUID, "payload": {...}, "vector": {"dtype": "float32",
   "b64": str}, "sparse": {"indices": [int], "values": [float]} | null}`` per memory.
   ``vector`` is the dense embedding as little-endian float32 bytes in base64 (exact, and
   2.6× smaller than decimal text): ``numpy.frombuffer(base64.b64decode(b64), "<f4")``.
   ``payload`` is the stored payload (``mem0_mcp.payload``), without the store-owned
   ``_lc`` mirror, which the target store rebuilds.
3. One ``{"type": "history", "id", "memory_id", "old_memory", "new_memory", "event",
   "created_at", "updated_at", "is_deleted": bool, "actor_id", "role", "user_id",
   "agent_id", "run_id"}`` per history row, oldest first — deleted memories' trails too.
4. ``{"type": "end", "memories": int, "history": int}`` — what was written; a file
   without it is truncated and ``import`` says so.

Import checks every line with the tools' own rules (``validation.stored_payload``,
``vector``, ``keyword_vector``, ``history_row``: text and metadata limits, scope ids, vector
dimension and finite values, history events and types) and is all or nothing, in two passes:

1. **Check**: the whole file is read and validated; nothing is written. A bad line stops the
   import with its line number and what is wrong; a line longer than ``max_line_bytes`` is
   refused without being read into memory.
2. **Stage and apply**: in one SQLite transaction of ``history.db`` (``HistoryStore.bulk``),
   the file's history rows are inserted and every memory the target should take becomes a
   journal entry; the vector store is not touched until that commits. The journal entries
   are then applied to the vector store a page at a time. A failure before the commit
   leaves both stores as they were; a crash after it is completed on the next open by the
   journal replay, as for any write (docs/architecture.md, "Crash safety"). The space the
   journal took is then given back (``HistoryStore.compact``).

Memory stays bounded whatever the file size: one line at a time when checking, batches of
at most ``format.PAGE`` lines and ``format.BATCH_BYTES`` when staging, pages of the journal
when applying.

Import merges into the target store and is idempotent: memories are upserted by id and
history rows inserted by id (a row already present is skipped), so running it twice gives
the same store. A memory the target holds in the same or a later version (last change
time), or has deleted, is left as the target has it: re-running an import after the target
was used never reverts an update or revives a deleted memory. Memories already in the target
and absent from the file are kept (import into an empty data dir for an exact copy).

Embedding model: when the file's ``embedding_model`` or ``dim`` differs from the target's,
``reembed="auto"`` (the default) recomputes every dense vector from the memory text with
the target's model (keyword vectors are model-independent and kept); ``"never"`` refuses
with ``TransferError`` before anything is written; ``"always"`` recomputes dense and
keyword vectors whatever the header says.

One job per module:

* ``format``: the lines of the file: ``FORMAT`` / ``VERSION`` and the header checks, memory
  lines written from and read back into points, ``encode_vector`` / ``decode_vector``, and
  ``records``, the bounded reading of a file (plain or gzip) into validated records.
* ``export``: ``export_store`` and ``iter_points`` (keyset pagination of the vector store).
* ``importer``: ``import_store``: the checking pass, then staging through the journal in
  one SQLite transaction and applying it to the vector store.
* ``progress``: the progress bar both draw on stderr.
"""

from __future__ import annotations

from .export import export_store, iter_points
from .format import FORMAT, VERSION, TransferError, decode_vector, encode_vector, max_line_bytes
from .importer import import_store

__all__ = [
    "FORMAT",
    "VERSION",
    "TransferError",
    "decode_vector",
    "encode_vector",
    "export_store",
    "import_store",
    "iter_points",
    "max_line_bytes",
]
