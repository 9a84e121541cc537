"""Composition root: settings, the Application, scheduling, the command line."""
