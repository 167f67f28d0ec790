"""Entry point of ``pulumi up`` in stacks/intera: the input comes from config ``erp:input``."""

from stacks.common.inputs import input_from_pulumi_config
from stacks.intera.program import build

build(input_from_pulumi_config())
