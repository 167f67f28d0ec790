"""The reconcile daemon: keeps every environment equal to what a git branch says.

Modules, each owning one thing:

- ``settings``  the daemon's options (durations, listen address, paths) as one frozen value;
- ``source``    the git source: clone/fetch with gitpython, ancestry, commit signatures;
- ``watch``     watchfiles on a local source (debounced) -> a wake-up;
- ``trigger``   the coalescing wake-up every trigger goes through (a burst -> one reconcile);
- ``lease``     one daemon per state store (a row with an expiry, renewed);
- ``selection`` (pure) which changes of a plan run now, and why the others wait;
- ``backoff``   capped exponential backoff per environment;
- ``tap``       an engine decorator remembering each environment's last engine error;
- ``history``   the commit last applied, the base a new tip must descend from (events in the store);
- ``loop``      one level-based reconcile pass (fetch, guard, validate, plan, apply, record);
- ``driftcheck`` drift checks on their interval (report, or remediate by policy);
- ``status``    conditions Ready/Reconciling/Stalled per environment, and the /status document;
- ``metrics``   Prometheus metrics in the daemon's own registry;
- ``webhook``   the signature check of ``POST /hooks/git``;
- ``http``      /healthz, /readyz, /metrics, /status and the webhook;
- ``service``   the wiring: threads, timers, signals, start and clean stop;
- ``warmup``    the stack programs' first-run cost paid at start, not on the first commit;
- ``logging``   structured logs (text or JSON lines).
"""
