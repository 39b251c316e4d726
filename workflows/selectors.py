"""Reads of workflow data. None yet."""
