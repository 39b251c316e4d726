"""Models of metrics: added with the issue that builds this area (see issues)."""
