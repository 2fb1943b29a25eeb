"""Talking to a workspace's agent (OpenCode) through the pod's API sidecar."""
