"""devaipod: run AI coding agents sandboxed in podman pods."""

__version__ = "0.1.0"
