"""Compute: the topology's managed identity, one network interface and one VM per instance, and
for Fluig above 30 named users a dedicated Fluig Indexer VM (seed: the indexer runs on the core
instance up to 30 users).

VMs are created from the product's specialized image in the platform's compute gallery (see
``tables.IMAGES``): no administrator credential is set by the stack. Every VM carries the
user-assigned identity, which the deployment agent uses to read its blobs and to sign in to the
Azure SQL database (Microsoft Entra authentication, no password).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native.compute as compute
import pulumi_azure_native.managedidentity as managedidentity
import pulumi_azure_native.network as network

from reconciler.model import capabilities as caps
from stacks.azure.context import AzureStack
from stacks.azure.networking import Network
from stacks.azure.tables import APP_VM_SIZES, DEFAULT_IMAGE_GALLERY, IMAGES, INDEXER_IMAGE, INDEXER_VM_SIZES, Image


@dataclass(frozen=True)
class Vm:
    key: str  # logical base name: vm-1, vm-2, ..., indexer
    name: str  # physical VM name
    role: str  # app | indexer
    os_type: str
    resource: compute.VirtualMachine


@dataclass(frozen=True)
class Machines:
    identity: managedidentity.UserAssignedIdentity
    vms: tuple[Vm, ...]

    @property
    def app_vms(self) -> tuple[Vm, ...]:
        return tuple(vm for vm in self.vms if vm.role == "app")


def build_machines(stack: AzureStack, net: Network) -> Machines:
    identity = managedidentity.UserAssignedIdentity(
        "identity", resource_name_=stack.name("identity"), resource_group_name=stack.group_name,
        location=stack.location, tags=stack.tags(), opts=stack.opts())
    env = stack.env
    vms = [_vm(stack, net, identity, f"vm-{i}", "app", IMAGES[env.product],
               APP_VM_SIZES[env.product][env.instance_size]) for i in range(1, env.instances + 1)]
    if needs_dedicated_indexer(stack):
        vms.append(_vm(stack, net, identity, "indexer", "indexer", INDEXER_IMAGE,
                       INDEXER_VM_SIZES[env.instance_size]))
    return Machines(identity, tuple(vms))


def needs_dedicated_indexer(stack: AzureStack) -> bool:
    env = stack.env
    return stack.supports("users") and (env.users or 0) > caps.INDEXER_CORE_MAX_USERS


def _nic(stack: AzureStack, net: Network, key: str, role: str) -> network.NetworkInterface:
    """App NICs join the load balancer's pool, or carry the public IP when there is no balancer;
    the indexer is reached only inside the virtual network."""
    pools, public_ip, depends = None, None, []
    if role == "app" and net.backend_pool_id is not None:
        pools = [network.BackendAddressPoolArgs(id=net.backend_pool_id)]
        depends = [net.load_balancer]  # the pool's id is built from names, not read from the LB
    elif role == "app":
        public_ip = network.PublicIPAddressArgs(id=net.public_ip.id)
    return network.NetworkInterface(
        f"{key}-nic", network_interface_name=stack.name(key, "nic"), resource_group_name=stack.group_name,
        location=stack.location, enable_accelerated_networking=True,
        ip_configurations=[network.NetworkInterfaceIPConfigurationArgs(
            name="ipconfig", primary=True, private_ip_allocation_method="Dynamic",
            subnet=network.SubnetArgs(id=net.app_subnet.id), public_ip_address=public_ip,
            load_balancer_backend_address_pools=pools)],
        tags=stack.tags(), opts=stack.opts(depends_on=depends))


def _image_reference(stack: AzureStack, image: Image) -> compute.ImageReferenceArgs:
    gallery = stack.inp.setting("imageGallery", DEFAULT_IMAGE_GALLERY)
    return compute.ImageReferenceArgs(
        shared_gallery_image_id=f"/SharedGalleries/{gallery}/Images/{image.definition}/Versions/latest")


def _vm(stack: AzureStack, net: Network, identity: managedidentity.UserAssignedIdentity, key: str, role: str,
        image: Image, size: str) -> Vm:
    nic = _nic(stack, net, key, role)
    name = stack.name(key)
    disk_type = "Premium_LRS" if stack.env.is_prod else "StandardSSD_LRS"
    vm = compute.VirtualMachine(
        key, vm_name=name, resource_group_name=stack.group_name, location=stack.location,
        hardware_profile=compute.HardwareProfileArgs(vm_size=size),
        storage_profile=compute.StorageProfileArgs(
            image_reference=_image_reference(stack, image),
            os_disk=compute.OSDiskArgs(
                create_option="FromImage", name=stack.name(key, "osdisk"), os_type=image.os_type,
                caching="ReadWrite", disk_size_gb=image.os_disk_gb, delete_option="Delete",
                managed_disk=compute.ManagedDiskParametersArgs(storage_account_type=disk_type))),
        network_profile=compute.NetworkProfileArgs(
            network_interfaces=[compute.NetworkInterfaceReferenceArgs(id=nic.id, primary=True)]),
        identity=compute.VirtualMachineIdentityArgs(type="UserAssigned", user_assigned_identities=[identity.id]),
        diagnostics_profile=compute.DiagnosticsProfileArgs(
            boot_diagnostics=compute.BootDiagnosticsArgs(enabled=True)),
        tags=stack.tags(**{"totvs-role": role}), opts=stack.opts())
    return Vm(key, name, role, image.os_type, vm)


def vm_ids(machines: Machines) -> dict[str, pulumi.Output[str]]:
    return {vm.name: vm.resource.id for vm in machines.vms}
