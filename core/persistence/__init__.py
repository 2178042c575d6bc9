"""Storage: ``tables`` (the models), ``types`` (exact money, UTC times), ``database`` (engines and
``session_scope``), ``schema`` (Alembic migrations shipped in ``migrations/``).
"""
