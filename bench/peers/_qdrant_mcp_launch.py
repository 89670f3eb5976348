"""Start ``mcp-server-qdrant`` exactly as its console script does, behind the network guard.

Run by ``qdrant_mcp.QdrantMCPPeer`` with ``bench/.venvs/qdrant-mcp/bin/python``; arguments are
passed through (``--transport stdio`` is the default).
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
import _netguard  # noqa: E402

_netguard.install()
# Keep our folder (it has a setup.py, among others) off the server's import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from mcp_server_qdrant.main import main  # noqa: E402

sys.argv[0] = "mcp-server-qdrant"
main()
