"""Entry point of ``pulumi up`` in stacks/aws: the input comes from the stack config ``erp:input``."""

from stacks.common.inputs import input_from_pulumi_config
from stacks.aws.program import build

build(input_from_pulumi_config())
