"""The pod-api sidecar: the pod's only published port.

It requires a per-pod token (``Authorization: Bearer``), and proxies
everything it does not serve itself to OpenCode on 127.0.0.1:4096, adding
the OpenCode password, which never leaves the pod.
"""
