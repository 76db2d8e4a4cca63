"""Rules about threads, timers and tasks that never stop.

Modules whose name starts with ``_`` hold code shared by this family's rules;
the registry skips them."""
