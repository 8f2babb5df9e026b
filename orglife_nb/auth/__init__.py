"""Trust: accounts and their roles and scopes (rev 2). Later increments add the review chain and the audit trail."""
from .accounts import (Account, AccountRole, add_account, authenticate, branches_in_scope, get_account, list_accounts, set_disabled,
                       set_password)

__all__ = ["Account", "AccountRole", "add_account", "authenticate", "branches_in_scope", "get_account", "list_accounts",
           "set_disabled", "set_password"]
