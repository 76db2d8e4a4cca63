"""Renderers: text, JSON, SARIF and GitHub annotations."""
