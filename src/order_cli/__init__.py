"""The ``orders`` command."""
