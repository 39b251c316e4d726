"""Forms of campaigns. None yet."""
