"""The control plane: `devaipod web`."""
