"""The invoice archive's building blocks that know nothing of the database: storage and PDF text."""
