"""Platform-independent actions behind chat buttons and commands.

Arrives with the chat issue; the core services it will call (pair, unpair) exist already.
"""
