"""Models of campaigns: added with the issue that builds this area (see issues)."""
