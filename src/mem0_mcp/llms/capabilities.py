"""What each LLM endpoint was found to support, remembered across restarts.

Servers refuse request shapes: llama.cpp answers HTTP 500 to some ``json_schema``
requests, some servers reject tools, reasoning models reject ``temperature``. A provider
then falls back to a shape that works, but each process used to learn it again, paying
for the refused request on its first call (with the SDK's own retries of a 500: 3 requests
at the default ``llm_max_retries=2``). Kept here, a restarted server starts with the
shape that worked.

File: ``<data_dir>/llm-capabilities.json``, one entry per endpoint::

    {"openai http://127.0.0.1:8080/v1/ qwen2.5-coder-1.5b": {"mode": "tool"}}

Keys are ``"<provider> <base_url> <model>"``; values are what the provider learned
(``mode``: the structured-output mode to start from; ``temperature``: ``false`` when the
model takes none). Delete the file to make the providers probe again, e.g. after
upgrading a server that now supports ``json_schema``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)

CAPABILITIES_FILE = "llm-capabilities.json"
# Writers hold the lock for one small read-merge-write; waiting longer means something is
# wrong, and giving up only costs re-learning in a later process.
LOCK_TIMEOUT = 5.0


class Capabilities:
    """The capabilities file at ``path`` (see the module docstring).

    Nothing here raises: an unreadable file counts as empty and a failed write is
    logged, since either only costs the provider one refused request to learn again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def in_dir(cls, data_dir: Path) -> Capabilities:
        return cls(data_dir / CAPABILITIES_FILE)

    def recall(self, endpoint: str) -> dict[str, Any]:
        """What was learned about ``endpoint``; ``{}`` if nothing. Reads the file (a few
        hundred bytes: called when a provider is built, not per request)."""
        entry = self._read().get(endpoint)
        return dict(entry) if isinstance(entry, dict) else {}

    async def learn(self, endpoint: str, facts: dict[str, Any]) -> None:
        """Merge ``facts`` into what is kept for ``endpoint``, off the event loop."""
        await asyncio.to_thread(self._write, endpoint, facts)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring %s (%s); LLM endpoints will be probed again", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, endpoint: str, facts: dict[str, Any]) -> None:
        part = self.path.with_name(self.path.name + ".part")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The lock keeps two processes learning at once from losing each other's entry;
            # a new FileLock per write, since one instance is re-entrant across threads.
            with FileLock(self.path.with_name(self.path.name + ".lock"), timeout=LOCK_TIMEOUT):
                data = self._read()
                entry = data.get(endpoint)
                data[endpoint] = {**(entry if isinstance(entry, dict) else {}), **facts}
                part.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", "utf-8")
                # Readers see the old file or the new one, never half of one. No fsync: a
                # file lost in a crash only costs re-learning.
                os.replace(part, self.path)
        except (OSError, Timeout) as exc:
            log.warning("could not record what %s supports in %s: %s", endpoint, self.path, exc)
