"""What devaipod's two HTTP servers share: the control plane (``devaipod web``) and
each pod's API sidecar (``devaipod pod-api``).

``oneport`` serves a WSGI app and WebSockets on one port; ``browserauth`` holds
the browser-facing pieces (HMAC keys, constant-time compare, the same-origin
check on writes, the tickets the control plane hands a browser into a sidecar,
security headers on every answer). Nothing here imports the control plane,
the sidecar or the CLI.
"""
