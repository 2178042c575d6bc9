"""The admin web panel (setup and the reconciliation workbench).

Arrives with the admin issue.
"""
