"""The store: SQLModel tables, the engine, migrations, ingest and the recorder.

Imports nothing itself: the recorder, in here, is loaded at start-up and must not bring SQLAlchemy with it.
"""
