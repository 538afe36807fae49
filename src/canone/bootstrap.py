"""The one place where the real adapters are wired to the services."""
