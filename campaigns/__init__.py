"""Community rules: check-ins, points, membership. Framework-free by contract (see pyproject)."""
