"""Models of workflows: added with the issue that builds this area (see issues)."""
