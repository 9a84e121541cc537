"""Use cases: each opens the unit of work it is given, and commits once."""
