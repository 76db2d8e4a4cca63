"""The tree and names layer: walking libcst trees, reading their shapes, resolving names.

Imports nothing of memlint's above it (analysis, rules, engine)."""
