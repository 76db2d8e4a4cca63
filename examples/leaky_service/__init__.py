"""A small order-processing service that leaks memory in every way memlint knows.

Run ``memlint examples/`` from the repository root to see the findings.
"""
