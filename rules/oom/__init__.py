"""Rules about one sudden large allocation: whole-file reads, huge constants, deep recursion.

Modules whose name starts with ``_`` hold code shared by this family's rules;
the registry skips them."""
