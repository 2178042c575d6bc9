"""The reconciliation core: domain, persistence, matching, statement parsing and services.

Nothing in this package knows about Slack, Telegram or any HTTP framework.
"""
