"""The widgets of the interactive session, one per module."""
