"""Thin Telegram adapters: parse the update, call a use case, render the reply.

The routes are in handlers/registry.py: importing one handler module (a CLI reaching a
helper) does not load them all.
"""
