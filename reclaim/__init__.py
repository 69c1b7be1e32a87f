"""The application shell: settings, composition root, scheduler and CLI."""

__version__ = "0.1.0"
