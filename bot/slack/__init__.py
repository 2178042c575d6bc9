"""Slack: Block Kit rendering (``render``), sending and editing (``transport``), and the Bolt app that
receives button presses, the "Find invoice…" modal and ``/reconbot`` (``app``)."""
