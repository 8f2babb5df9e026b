"""JupyterHub for orglife-nb: the store's accounts log in to the hub; each account gets its own forms server.

Use it when one ``orglife serve`` is not enough (many branches at once, servers on other machines, the hub's
admin pages for who is running what). Set-up on the hub machine:

    pip install "orglife-nb[hub]"                  # jupyterhub; the forms need nothing more
    npm install -g configurable-http-proxy         # the hub's proxy (Node.js)
    orglife user add admin --role admin            # accounts live in the store, as for `orglife serve`
    ORGLIFE_DB=postgresql+psycopg://… jupyterhub -f deploy/jupyterhub_config.py

Settings come from the environment so this file needs no editing:

    ORGLIFE_DB             the store (SQLAlchemy URL; give the password through PGPASSWORD or ~/.pgpass)
    ORGLIFE_HUB_URL        where the hub listens (default http://127.0.0.1:8000; put TLS in front of it or set
                           ORGLIFE_HUB_CERT / ORGLIFE_HUB_KEY)
    ORGLIFE_ALLOW_HOSTS    comma-separated host names users type in the browser (the forms servers refuse others)
    ORGLIFE_HUB_DIR        where the hub keeps its own state (default ./orglife-hub)
    ORGLIFE_VOTE_URL       the address of the `orglife serve` that serves the phone vote page (/vote needs no login,
                           so it is not behind the hub); the forms print it on the ballot slips

and the forms server's own settings (orglife_nb/serving.py, the same ones `orglife serve` takes as options), which
reach each user's server through Spawner.env_keep below:

    ORGLIFE_POOL                    preheated kernels per user (default 1)
    ORGLIFE_MAX_KERNELS_PER_USER    pages (kernels) one user may have open (default 3)
    ORGLIFE_MAX_KERNELS             pages one user's server may have open in all (default 20; the smaller applies)

Why the spawned server is orglife's own forms server and not ``jupyterhub-singleuser``: a JupyterLab server would
let every user run code beside the store's credentials, past every scope. The forms server runs only the forms
notebook, refuses code from the page, and hands its kernel the hub user's name signed (see orglife_nb/auth/hub.py).
"""
import os
import sys
from pathlib import Path

import orglife_nb.auth
from orglife_nb.serving import ENVIRONMENT

c = get_config()  # noqa: F821 (JupyterHub provides it)

state = Path(os.environ.get("ORGLIFE_HUB_DIR", "orglife-hub")).resolve()
state.mkdir(parents=True, exist_ok=True)

c.JupyterHub.bind_url = os.environ.get("ORGLIFE_HUB_URL", "http://127.0.0.1:8000")
if os.environ.get("ORGLIFE_HUB_CERT"):
    c.JupyterHub.ssl_cert = os.environ["ORGLIFE_HUB_CERT"]
    c.JupyterHub.ssl_key = os.environ.get("ORGLIFE_HUB_KEY", "")
if os.environ.get("ORGLIFE_HUB_PORT"):  # the hub's own API (default 8081), for several hubs on one machine
    c.JupyterHub.hub_port = int(os.environ["ORGLIFE_HUB_PORT"])
if os.environ.get("ORGLIFE_PROXY_API_PORT"):
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ['ORGLIFE_PROXY_API_PORT']}"
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")

# logins: the store's accounts (argon2, disabled accounts refused, failures throttled and audited)
c.JupyterHub.authenticator_class = "orglife"  # the entry point orglife-nb registers (jupyterhub.authenticators)
c.OrglifeAuthenticator.db = os.environ.get("ORGLIFE_DB", "")
c.Authenticator.auto_login = False
c.JupyterHub.template_paths = [str(Path(orglife_nb.auth.__file__).parent / "hub_templates")]  # Chinese login page
c.JupyterHub.admin_access = False  # nobody opens another account's forms (they would act as that account)

# each account's forms server: a local process of the hub's system user (no system account per person)
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = [sys.executable, "-m", "orglife_nb.auth.hub"]
c.Spawner.args = []
c.Spawner.default_url = "/"
c.Spawner.env_keep = ["PATH", "PYTHONPATH", "LANG", "LC_ALL", "PGPASSWORD", "PGPASSFILE", "HOME", *ENVIRONMENT]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.SimpleLocalProcessSpawner.home_dir_template = str(state / "users" / "{username}")
