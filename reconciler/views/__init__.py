"""Renderers: values in, text out. No logic of planning or validation lives here."""
