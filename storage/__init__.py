"""Persistence: SQLAlchemy rows, repositories, the unit of work, the engine, migrations."""
