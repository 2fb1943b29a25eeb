"""Kubernetes: a workspace's plan as Kubernetes objects (``manifest``) and the backend that
applies them with kubectl."""
