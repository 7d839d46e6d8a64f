"""Workspaces, staff, roles and scopes, sessions, API keys, write keys, MFA, audit log."""
