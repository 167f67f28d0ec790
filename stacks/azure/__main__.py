"""Entry point of the ``erp-azure`` project for the pulumi CLI: the input comes from config ``erp:input``."""

from stacks.common.inputs import input_from_pulumi_config
from stacks.azure.program import build

build(input_from_pulumi_config())
