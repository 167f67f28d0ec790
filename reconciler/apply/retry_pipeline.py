"""Preparing a retry: a failed or interrupted pipeline resumes from its failed step, at the same
revision, only while the environment's recorded state is still the one it was planned against."""

from __future__ import annotations

from reconciler.errors import PermanentError, StalePlanError
from reconciler.model.pipeline import Pipeline, PipelineStatus, StepStatus
from reconciler.model.plan import EnvironmentChange
from reconciler.store import Database, environments
from reconciler.store import pipelines as store


def prepare_retry(db: Database, pipeline_id: int, actor: str) -> Pipeline:
    pipeline = store.get(db, pipeline_id)
    if pipeline is None:
        raise PermanentError(f"no pipeline {pipeline_id}")
    if pipeline.status not in (PipelineStatus.FAILED, PipelineStatus.INTERRUPTED):
        raise PermanentError(f"pipeline {pipeline_id} is {pipeline.status.value}; only failed or interrupted "
                             "pipelines can be retried")
    change = EnvironmentChange.from_data(pipeline.change)
    with db.transaction() as connection:
        serial = environments.current_serial(connection, pipeline.environment)
        if serial != change.state_serial:
            raise StalePlanError(f"{pipeline.environment} was applied since pipeline {pipeline_id} was planned "
                                 f"(state serial {change.state_serial} -> {serial}); plan and apply again instead")
        now = db.clock()
        for step in pipeline.steps:
            if step.status is not StepStatus.SUCCEEDED or step.kind in ("lock", "unlock"):
                store.step_status(connection, pipeline_id, step.seq, StepStatus.QUEUED, now,
                                  f"retry: was {step.status.value}" if step.status is StepStatus.FAILED else None)
        store.set_status(connection, pipeline_id, PipelineStatus.QUEUED, now, f"retry requested by {actor}")
        store.log(connection, now, pipeline.environment, pipeline_id, "info", "pipeline-retry",
                  f"pipeline {pipeline_id} retried by {actor} from step "
                  f"'{pipeline.failed_step.name if pipeline.failed_step else '?'}'", actor)
    return store.get(db, pipeline_id)
