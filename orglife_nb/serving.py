"""The forms server's settings: one traitlets ``Configurable`` that ``orglife serve``, the JupyterHub single-user
server and the hub's configuration all read (as Voila's servers share ``VoilaConfiguration``).

A value comes, first found, from: the command line or a config file (``--ServeSettings.max_kernels=5``, which
``orglife serve`` writes from its options), then the setting's ``ORGLIFE_*`` environment variable (how the hub
hands its settings to each user's server: only the names in ``ENVIRONMENT`` pass its ``Spawner.env_keep``), then
the default.
"""
from __future__ import annotations

import os

from traitlets import Bool, Int, List, Unicode
from traitlets.config import Configurable


class ServeSettings(Configurable):
    """Who may reach the forms, how many pages at once, how long a login lasts."""

    read_environment = Bool(True, help="take settings not given otherwise from their ORGLIFE_* variables (the "
                            "hub's way); orglife serve gives every one on the command line and turns this off"
                            ).tag(config=True)
    db = Unicode("", help="the store (SQLAlchemy URL)").tag(config=True, env="ORGLIFE_DB")
    allowed_hosts = List(Unicode(), help="host names the server answers to besides loopback (environment: "
                                         "comma-separated)").tag(config=True, env="ORGLIFE_ALLOW_HOSTS")
    certfile = Unicode("", help="TLS certificate (PEM) for HTTPS").tag(config=True)
    keyfile = Unicode("", help="TLS private key (PEM) for HTTPS").tag(config=True)
    max_kernels = Int(20, help="pages (kernels) open at once on this server").tag(
        config=True, env="ORGLIFE_MAX_KERNELS")
    max_kernels_per_user = Int(3, help="pages (kernels) one account may have open").tag(
        config=True, env="ORGLIFE_MAX_KERNELS_PER_USER")
    idle_minutes = Int(30, help="a login unused this long must log in again").tag(
        config=True, env="ORGLIFE_SESSION_MINUTES")
    pool_size = Int(1, help="preheated kernels kept ready").tag(config=True, env="ORGLIFE_POOL")
    vote_url = Unicode("", help="the address members open for the phone 民主测评 (printed on the slips)").tag(
        config=True, env="ORGLIFE_VOTE_URL")

    def __init__(self, environ=None, **kwargs) -> None:
        super().__init__(**kwargs)
        environ = os.environ if environ is None else environ
        given = set(kwargs) | set(self.config.get(type(self).__name__, {}))
        for name, trait in self.traits(config=True).items():
            variable = trait.metadata.get("env")
            if name in given or not variable or not environ.get(variable, "").strip():
                continue
            if not self.read_environment and name != "db":  # the store's URL travels only in the environment
                continue
            raw = environ[variable].strip()
            try:
                value = ([h.strip() for h in raw.split(",") if h.strip()] if isinstance(trait, List) else
                         int(raw) if isinstance(trait, Int) else raw)
            except ValueError:
                from .errors import OrglifeError

                raise OrglifeError(f"环境变量 {variable} 应为整数，现为 {raw!r}") from None
            setattr(self, name, value)  # validated by the trait like any other value

    def arguments(self) -> list[str]:
        """These settings as command-line options of a server process, every one of them (so the process's own
        environment cannot override what its caller decided), except the store: its URL may hold a password and a
        command line is visible to every user of the machine (``ps``), so it travels in ``ORGLIFE_DB``. Paths are
        made absolute: the server runs in the notebook's folder."""
        prefix = f"--{type(self).__name__}."
        out = [f"{prefix}read_environment=False"]
        for name in sorted(self.trait_names(config=True)):
            if name in ("db", "read_environment"):
                continue
            value = getattr(self, name)
            if name in ("certfile", "keyfile") and value:
                value = os.path.abspath(value)
            # a list as one option per item (traitlets 5's form); an empty one needs none
            out += [f"{prefix}{name}={item}" for item in value] if isinstance(value, list) else [
                f"{prefix}{name}={value}"]
        return out

    @property
    def https(self) -> bool:
        return bool(self.certfile)


ENVIRONMENT = tuple(trait.metadata["env"] for trait in ServeSettings.class_traits(config=True).values()
                    if "env" in trait.metadata)

__all__ = ["ENVIRONMENT", "ServeSettings"]
