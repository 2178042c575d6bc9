"""The ``reconbot`` command: the process entry point that wires core, chat and web together."""
