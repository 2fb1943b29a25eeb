"""Kubernetes: manifests from a workspace plan, and the kubectl backend."""
