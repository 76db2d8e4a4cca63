"""Rules about memory that only grows: containers, caches, defaults, registrations.

Modules whose name starts with ``_`` hold code shared by this family's rules;
the registry skips them."""
