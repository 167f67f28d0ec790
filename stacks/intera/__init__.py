"""The Intera stack: the vendor's own cloud, driven through its HTTP API by dynamic providers.

``api`` is the HTTP contract and client, ``provider`` the dynamic providers and resources,
``program`` the Pulumi program (project ``erp-intera``), ``fake_server`` the contract's reference
behaviour in memory (tests, sandbox).
"""
