"""Planning: desired documents and recorded state in, a frozen Plan out.

``actions`` (domain actions), ``resources`` (graph diff), ``backups`` (rule 11), ``planner``
(assembly and protections) are pure; ``service`` does the I/O around them.
"""
