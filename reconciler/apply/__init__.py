"""Apply: a plan made real, one pipeline per environment, step by step, each step recorded.

``retry`` (backoff), ``steps`` (what a pipeline consists of), ``runner`` (one pipeline),
``orchestrator`` (many environments in parallel, in dependency order), ``staleness`` (a saved
plan that no longer matches is refused), ``recovery`` (pipelines left running by a dead process).
"""
