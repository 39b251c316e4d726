"""Models of budgets: added with the issue that builds this area (see issues)."""
