"""Local fake servers that speak each provider's real HTTP API, for tests (never the public internet)."""
