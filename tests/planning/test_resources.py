"""The resource diff: Terraform's create / update / replace / delete, with the keys that changed."""

from __future__ import annotations

import dataclasses

from reconciler.model.plan import Op
from reconciler.planning.resources import diff_graphs
from tests.planning.helpers import graph


def test_create_update_replace_delete():
    old = graph(("aws:ec2/instance:Instance", "a", {"ami": "1", "instanceType": "t3"}),
                ("aws:s3/bucket:Bucket", "b", {"bucket": "x"}),
                ("aws:ssm/parameter:Parameter", "p", {"name": "n", "value": "1"}))
    new = graph(("aws:ec2/instance:Instance", "a", {"ami": "2", "instanceType": "t3"}),
                ("aws:ssm/parameter:Parameter", "p", {"name": "n", "value": "2"}),
                ("aws:iam/role:Role", "r", {"name": "role"}))
    ops = {c.name: (c.op, c.changed, c.replace_keys) for c in diff_graphs(old, new)}
    assert ops == {"a": (Op.REPLACE, ("ami",), ("ami",)), "p": (Op.UPDATE, ("value",), ()),
                   "b": (Op.DELETE, (), ()), "r": (Op.CREATE, (), ())}


def test_same_graph_no_changes_and_internal_keys_ignored():
    g = graph(("pulumi-python:dynamic/intera:Topology", "t", {"name": "x", "__provider": {"secret": "1"}}))
    h = graph(("pulumi-python:dynamic/intera:Topology", "t", {"name": "x", "__provider": {"secret": "2"}}))
    assert diff_graphs(g, g) == () and diff_graphs(g, h) == ()


def test_replace_on_changes_and_ignore_changes_of_the_resource():
    old = graph(("pulumi-python:dynamic/intera:Topology", "t", {"region": "sp1", "instances": 1}))
    new = graph(("pulumi-python:dynamic/intera:Topology", "t", {"region": "sp2", "instances": 1}))
    new = new.with_resources([dataclasses.replace(new.resources[0], replace_on_changes=("region",))])
    assert diff_graphs(old, new)[0].op is Op.REPLACE
    ignoring = new.with_resources([dataclasses.replace(new.resources[0], ignore_changes=("region",))])
    assert diff_graphs(old, ignoring) == ()


def test_azure_names_and_location_force_replacement():
    old = graph(("azure-native:compute:VirtualMachine", "vm", {"vmName": "a", "location": "brazilsouth"}))
    new = graph(("azure-native:compute:VirtualMachine", "vm", {"vmName": "a", "location": "eastus"}))
    assert diff_graphs(old, new)[0].replace_keys == ("location",)
