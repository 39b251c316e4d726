"""Forms of metrics. None yet."""
