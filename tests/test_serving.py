"""ServeSettings: the one list of the forms server's settings, read by `orglife serve`, the hub and its spawner."""
from __future__ import annotations

import pytest
from traitlets.config import Config

from orglife_nb.errors import OrglifeError
from orglife_nb.serving import ENVIRONMENT, ServeSettings


def test_a_setting_comes_from_config_then_environment_then_default():
    environ = {"ORGLIFE_MAX_KERNELS": "9", "ORGLIFE_ALLOW_HOSTS": " a.example.cn , b.example.cn ,"}
    assert ServeSettings(environ={}).max_kernels == 20
    from_env = ServeSettings(environ=environ)
    assert from_env.max_kernels == 9 and from_env.allowed_hosts == ["a.example.cn", "b.example.cn"]
    config = Config()
    config.ServeSettings.max_kernels = 4
    assert ServeSettings(config=config, environ=environ).max_kernels == 4
    assert ServeSettings(environ=environ, max_kernels=5).max_kernels == 5


def test_the_command_line_carries_every_setting_but_never_the_store():
    settings = ServeSettings(environ={"ORGLIFE_DB": "postgresql+psycopg://u:secret@h/db"}, max_kernels_per_user=2,
                             allowed_hosts=["dangjian.example.gov.cn"], certfile="cert.pem", keyfile="key.pem")
    arguments = settings.arguments()
    assert settings.db.endswith("/db") and not any("secret" in a or ".db=" in a for a in arguments)
    assert "--ServeSettings.max_kernels_per_user=2" in arguments
    assert "--ServeSettings.max_kernels=20" in arguments  # defaults too
    assert "--ServeSettings.read_environment=False" in arguments  # and the child's environment cannot change them
    assert any(a.startswith("--ServeSettings.certfile=/") and a.endswith("/cert.pem") for a in arguments)
    # what the server process makes of that command line is the same settings
    from traitlets.config.loader import KVArgParseConfigLoader

    config = KVArgParseConfigLoader(arguments, classes=[ServeSettings]).load_config()
    child = ServeSettings(config=config, environ={"ORGLIFE_MAX_KERNELS": "99", "ORGLIFE_ALLOW_HOSTS": "evil.example",
                                                  "ORGLIFE_DB": "sqlite:///store.db"})
    assert (child.max_kernels, child.max_kernels_per_user, child.allowed_hosts) == (20, 2, ["dangjian.example.gov.cn"])
    assert child.db == "sqlite:///store.db"  # the one setting that travels in the environment
    empty = KVArgParseConfigLoader(ServeSettings(environ={}).arguments(), classes=[ServeSettings]).load_config()
    assert ServeSettings(config=empty, environ={"ORGLIFE_ALLOW_HOSTS": "evil.example"}).allowed_hosts == []


def test_a_bad_number_in_the_environment_is_named():
    with pytest.raises(OrglifeError, match="ORGLIFE_POOL.*整数"):
        ServeSettings(environ={"ORGLIFE_POOL": "two"})


def test_every_environment_name_is_a_setting():
    assert len(set(ENVIRONMENT)) == len(ENVIRONMENT) and all(name.startswith("ORGLIFE_") for name in ENVIRONMENT)
