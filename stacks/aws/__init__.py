"""The AWS stack: one Pulumi program (project ``erp-aws``) that declares one Environment on AWS.

``program`` is the entry point (``build``, ``computed_outputs``); each other module owns one
feature: ``network``, ``compute``, ``database``, ``loadbalancer``, ``dns``, ``power``, ``cost``,
``backup``, ``artifacts`` and ``agent`` (the deployment agent and its configuration), with the
data tables and settings in ``catalog`` and the per-stack context in ``context``.
"""
