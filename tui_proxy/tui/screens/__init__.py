"""Screens pushed over the main console: the detail view and the help."""
