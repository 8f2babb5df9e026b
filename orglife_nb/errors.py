"""User-facing errors: the message is Chinese and names what and where; the CLI prints it and exits 2."""


class OrglifeError(Exception):
    """An error the user can act on; ``str(e)`` is a complete one-line Chinese message."""
