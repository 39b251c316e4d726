"""Forms of workflows. None yet."""
