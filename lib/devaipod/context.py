"""What a run of devaipod was given at its edge, passed down to the library.

The CLI makes one :class:`Context` per process (``clikit.context()``), the
control plane one for its in-process actions (``devaipod web``). Library code
(``workspace/``, ``podman/``, ``agent/``, ``gator/``) takes it, or just its
``config``, as an argument: it never reads command-line settings itself.
``dry_run`` and ``url`` are applied once, at the edge, to the runner and the
podman connection (``apply``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from devaipod.config_schema import Config


@dataclass(frozen=True)
class Context:
    config: Config = field(default_factory=Config)
    config_file: str | None = None  # --config, when given (children get it too)
    url: str | None = None  # --url: the podman service
    dry_run: bool = False
    debug: bool = False
    backend: str | None = None  # --backend: overrides [backend] kind

    @property
    def backend_kind(self) -> str:
        """Where this run's workspaces live: "podman" or "kubernetes"."""
        return self.backend or self.config.backend.kind

    def apply(self) -> Context:
        """Point the runner and the podman connection at what this context says."""
        from devaipod import runner
        from devaipod.podman import connection

        if self.url:
            connection.set_url(self.url)
        runner.options.dry_run = self.dry_run
        return self


def load(config_path: str | None = None, **kwargs) -> Context:
    """A context with the configuration file read (``--config``, else the default)."""
    from devaipod import config

    return Context(config.load_config(config_path), config_path, **kwargs)
