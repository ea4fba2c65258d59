"""Every live CLI child: the registry that owns them, and runs parked for tool results."""
