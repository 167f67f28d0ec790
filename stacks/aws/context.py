"""What every feature module of the AWS stack needs: the input, the settings, the explicit provider,
names, tags, resource options and the capability matrix, in one frozen value.

All resources go through the one explicit ``aws.Provider`` of the topology's region, so that a
region change is a visible provider change and no ambient AWS configuration is ever used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from reconciler.model import capabilities as caps
from reconciler.model.spec import Environment
from stacks.aws.catalog import AwsSettings
from stacks.common.inputs import StackInput
from stacks.common.naming import physical_name, standard_tags

CLOUD = "aws"


@dataclass(frozen=True)
class Stack:
    inp: StackInput
    settings: AwsSettings
    provider: aws.Provider

    @classmethod
    def create(cls, inp: StackInput) -> "Stack":
        provider = aws.Provider("aws", region=inp.environment.region)
        return cls(inp, AwsSettings.of(inp), provider)

    @property
    def env(self) -> Environment:
        return self.inp.environment

    def has(self, feature: str) -> bool:
        """Whether the capability matrix gives this product the feature on AWS."""
        return caps.support(feature, self.env.product, CLOUD) is not None

    def name(self, *parts: str, max_length: int = 63) -> str:
        return physical_name(self.env, *parts, max_length=max_length)

    def tags(self, **extra: str) -> dict[str, str]:
        return {**standard_tags(self.env, self.inp.customer, self.inp.revision), **extra}

    def opts(self, *, data: bool = False, **options: Any) -> pulumi.ResourceOptions:
        """Options of every resource. ``data=True`` marks production data (databases, backup
        vaults and plans): on PROD it is protected and retained even if removed from the program."""
        if data and self.env.is_prod:
            options.update(protect=True, retain_on_delete=True)
        return pulumi.ResourceOptions(provider=self.provider, **options)
