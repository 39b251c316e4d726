"""Writes to budgets: every one validates, locks, writes and audits in one transaction. None yet."""
