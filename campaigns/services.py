"""Writes to campaigns: every one validates, locks, writes and audits in one transaction. None yet."""
