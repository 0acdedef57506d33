"""Wiring: settings, the Starlette app, request context, auth and the CLI."""
