"""Workspaces: one podman pod per workspace, and its lifecycle."""
