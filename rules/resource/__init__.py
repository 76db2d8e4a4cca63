"""Rules about handles never released: files, connections, processes, executors.

Modules whose name starts with ``_`` hold code shared by this family's rules;
the registry skips them."""
