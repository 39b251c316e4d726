"""Workflow pages. None yet: templates and tasks arrive with the workflow issue."""
