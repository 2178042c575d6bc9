"""Handing issued invoices and their settlements to the accountant: the documents and the receivers."""
