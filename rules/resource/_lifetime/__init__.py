"""Where does a resource go? The lifetime analysis behind MEM201-MEM204.

One walk per function that creates a resource follows each resource's
abstract state along every path. Read in this order:

- ``states``: what may have happened to an object (``Status``), the state a
  path carries and how the states of paths that meet are joined;
- ``findings``: what the analysis concludes (``Reason``, ``Finding``);
- ``tables``: the names it knows (exits, mocks, teardowns, hand-offs);
- ``uses``: how an expression uses a value, and what each use does to a
  resource (the policy, with no state);
- ``syntax``: questions asked of the syntax alone (names bound, names read);
- ``expressions``: descending into expressions and keeping the books;
- ``walk``: the statements and control flow of one function.

``_ownership`` answers the class-level question (does a teardown release
``self.x``?) and ``_base.ResourceRule`` is the rule side that records
creations and runs these walks.
"""
