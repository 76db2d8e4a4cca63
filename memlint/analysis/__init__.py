"""Analyses shared by every rule: names and aliases, value lifetime, loops, constants."""
