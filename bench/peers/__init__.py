"""Benchmark harnesses for peer projects (mem0, mcp-server-qdrant); see README.md."""
