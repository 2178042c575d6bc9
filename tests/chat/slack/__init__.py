"""Tests of the Slack adapter against the fake Slack server."""
