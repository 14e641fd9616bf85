"""``KubernetesTarget``: each agent of a stack as a Deployment, a Service and a NetworkPolicy on a cluster.

This module is what `strata validate` and the commands load: props, checks and the lifecycle hooks.
The objects are built in :mod:`.stack_objects`; the Terraform resources in :mod:`.resources`
(imported only when a stack renders), the manifests in :mod:`.export`. The API server is read
through :mod:`.kube_client`, with the kubeconfig the provider reads.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from agentstrata.errors import Diagnostic, SpecError, StrataError
from agentstrata.loader import shown_path
from agentstrata.deploy.state_backend import state_file
from agentstrata.targets.base.results import AgentEndpoint, DestroyResult, ExportResult
from agentstrata.targets.base.terraform_target import TerraformSession, TerraformTarget
from agentstrata.targets.kubernetes.checks import RULES, target_checks
from agentstrata.targets.kubernetes.kube_object import API_KINDS, KINDS
from agentstrata.targets.kubernetes.naming import CONTAINER, object_name, selector
from agentstrata.targets.kubernetes.profiles import PROFILES, ProviderProfile
from agentstrata.targets.kubernetes.settings import (
    DEFAULT_KUBECONFIG,
    DNS_LABEL_PATTERN,
    KubernetesDeployment,
    KubernetesProps,
    UiIngress,
)
from agentstrata.targets.kubernetes.toolchain import KUBERNETES_PROVIDER

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

    from agentstrata.constructs.agent_stack import AgentStack
    from agentstrata.deploy.layout import Layout
    from agentstrata.deploy.steps import StepRunner
    from agentstrata.deploy.synthesized_stack import SynthesizedStack
    from agentstrata.deploy.toolchain import MirroredProvider
    from agentstrata.loader import LoadedStack

#: Read at the CLI edge (and by main.py for `cdktf synth`) into the ``image`` and ``kubeconfig`` props.
IMAGE_ENV = "STRATA_KUBERNETES_IMAGE"
KUBECONFIG_ENV = "KUBECONFIG"
#: The image a destroy synthesizes with when the state records no Deployment (nothing runs it then).
NO_IMAGE_RECORDED = "no-deployment-recorded"
_DEFAULTS = KubernetesDeployment()
_PACKAGE = str(Path(__file__).resolve().parents[2]) + os.sep
_API_TIMEOUT_S = 10.0


class KubernetesTarget(TerraformTarget):
    """Deploys agents to a Kubernetes cluster through hashicorp/kubernetes (lean resource classes).

    :param namespace: where the agents run (a DNS label).
    :param create_namespace: create it, labelled for Pod Security (destroy removes it, unless it holds the claims
        destroy keeps); false: it exists already.
    :param image: the runtime image in your registry; a deploy or export needs it.
    :param provider_profile: ``"1.13"`` (the provider `strata setup` builds; enforces Pod Security "baseline",
        warns about "restricted") or ``"2"`` (2.38.0 from a registry; seccomp RuntimeDefault, enforces
        "restricted"). See :mod:`.profiles`.
    :param kubeconfig: the kubeconfig file (default ``~/.kube/config``; the CLI takes ``KUBECONFIG``).
    :param context: its context to use (default: its current one).
    :param wait_for_rollout: Terraform waits for each Deployment to roll out.
    :param rollout_timeout: seconds a rollout may take (the Deployment's progress deadline; Terraform's
        own timeouts allow a minute more).
    :param kb_claim: an existing PersistentVolumeClaim holding the KB; default: one is created, if an agent
        reads the KB.
    :param kb_claim_size: the size of the KB claim created.
    :param state_claim_size: give each agent a claim of this size for its state; default: an emptyDir.
    :param storage_class: the StorageClass of the claims created (default: the cluster's default).
    :param ui_ingress_from: a peer (namespace and/or pod labels) allowed to reach the agents' UI port
        (``agents``: which agents; default every one).
    :param manifests_dir: where `strata export k8s` writes (a folder per stack), relative to the project root.
    """

    name: ClassVar[str] = "kubernetes"
    settings_model: ClassVar[type[BaseModel]] = KubernetesDeployment
    rules: ClassVar[dict[str, str]] = RULES
    exports: ClassVar[dict[str, str]] = {"k8s": "Kubernetes manifests of the same objects, one YAML file each"}
    environment_props: ClassVar[dict[str, str]] = {KUBECONFIG_ENV: "kubeconfig", IMAGE_ENV: "image"}
    resources_module: ClassVar[str] = "agentstrata.targets.kubernetes.resources"
    runs_as: ClassVar[str] = "deployment"
    log_hint: ClassVar[str] = "each agent's pods: `kubectl -n <namespace> describe deployment <name>`, `strata logs`"
    providers: ClassVar[tuple[MirroredProvider, ...]] = (KUBERNETES_PROVIDER,)
    #: Whether preparing the machine asks the API server (a deploy or destroy does; `strata setup` does not).
    check_cluster: bool = True

    def __init__(
        self,
        *,
        namespace: str = _DEFAULTS.namespace,
        create_namespace: bool = _DEFAULTS.create_namespace,
        image: str | None = None,
        provider_profile: str = _DEFAULTS.provider_profile,
        kubeconfig: str = DEFAULT_KUBECONFIG,
        context: str | None = None,
        wait_for_rollout: bool = _DEFAULTS.wait_for_rollout,
        rollout_timeout: int = _DEFAULTS.rollout_timeout,
        kb_claim: str | None = None,
        kb_claim_size: str = _DEFAULTS.kb_claim_size,
        state_claim_size: str | None = None,
        storage_class: str | None = None,
        ui_ingress_from: UiIngress | Mapping[str, Any] | None = None,
        manifests_dir: str = _DEFAULTS.manifests_dir,
    ) -> None:
        given = dict(namespace=namespace, create_namespace=create_namespace, image=image,
                     provider_profile=provider_profile, kubeconfig=kubeconfig, context=context,
                     wait_for_rollout=wait_for_rollout, rollout_timeout=rollout_timeout, kb_claim=kb_claim,
                     kb_claim_size=kb_claim_size, state_claim_size=state_claim_size, storage_class=storage_class,
                     ui_ingress_from=ui_ingress_from.model_dump() if isinstance(ui_ingress_from, UiIngress)
                     else ui_ingress_from, manifests_dir=manifests_dir)
        try:
            props = KubernetesProps.model_validate(given)
        except ValidationError as exc:
            raise _props_error(exc) from None
        self.namespace = props.namespace
        self.create_namespace = props.create_namespace
        self.image = props.image
        self.profile: ProviderProfile = PROFILES[props.provider_profile]
        self.kubeconfig = props.kubeconfig
        self.context = props.context
        self.wait_for_rollout = props.wait_for_rollout
        self.rollout_timeout = props.rollout_timeout
        self.kb_claim = props.kb_claim
        self.kb_claim_size = props.kb_claim_size
        self.state_claim_size = props.state_claim_size
        self.storage_class = props.storage_class
        self.ui_ingress_from = props.ui_ingress_from
        self.manifests_dir = props.manifests_dir

    @classmethod
    def props_from_environment(cls, environ: Mapping[str, str]) -> dict[str, str]:
        """As every target, plus: a relative KUBECONFIG is relative to where the command runs, so made absolute."""
        props = super().props_from_environment(environ)
        if "kubeconfig" in props and os.pathsep not in props["kubeconfig"]:
            props["kubeconfig"] = os.path.abspath(os.path.expanduser(props["kubeconfig"]))
        return props

    def missing_props(self, loaded: "LoadedStack") -> list[Diagnostic]:
        """The runtime image; without one nothing can run, which is said where the stack file would set it."""
        if self.image is not None:
            return []
        return [loaded.diagnostic(("deployment", "kubernetes", "image"), (
            "the kubernetes target needs the runtime image, from a registry the cluster can pull from: set "
            f"deployment.kubernetes.image (or {IMAGE_ENV}), e.g. registry.example.com/strata-runtime:1.0; "
            "`strata setup` builds it locally as strata-runtime:<hash>, to push there"))]

    def require_image(self, loaded: "LoadedStack") -> str:
        missing = self.missing_props(loaded)
        if missing:
            raise SpecError(missing)
        assert self.image is not None
        return self.image

    def destroy(self, loaded: "LoadedStack", console: "Console", *, purge: bool) -> DestroyResult:
        """As every Terraform target's. Removing pods needs no image: without one, the stack is synthesized with
        the image its state records (or, with no Deployment recorded, a name saying so)."""
        if self.image is not None:
            return super().destroy(loaded, console, purge=purge)
        recorded = deployed_image(state_file(loaded.root, f"{loaded.stack.name}-{self.name}"))
        with_image = copy.copy(self)
        with_image.image = recorded or NO_IMAGE_RECORDED
        return super(KubernetesTarget, with_image).destroy(loaded, console, purge=purge)

    # -- checks and resources -------------------------------------------------------------------------

    def checks(self, loaded: "LoadedStack") -> list[Diagnostic]:
        return target_checks(loaded, self)

    def render(self, stack: "AgentStack") -> None:
        from agentstrata.targets.kubernetes.resources import render_kubernetes

        problems = self.checks(stack.source.loaded)
        if problems:
            raise SpecError(problems)
        render_kubernetes(self, stack)

    def export(self, loaded: "LoadedStack", fmt: str, out: Path | None) -> ExportResult:
        from agentstrata.targets.kubernetes.export import export_manifests

        problems = self.checks(loaded)
        if problems:
            raise SpecError(problems)
        written = export_manifests(loaded, self, out)
        kinds = Counter(obj.manifest["kind"] for obj in written.files.values())
        counts = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
        return ExportResult([written.folder], [
            f"wrote {shown_path(written.folder)}/ ({len(written.files)} manifests: {counts})",
            f"apply with: kubectl apply -f {shown_path(written.folder)}",
        ])

    # -- the cluster ----------------------------------------------------------------------------------

    def api(self, timeout: float = _API_TIMEOUT_S) -> "httpx.Client":
        """A client of the cluster's API, as the kubeconfig (and context) say."""
        from agentstrata.targets.kubernetes.kube_client import read_kubeconfig

        return read_kubeconfig(self.kubeconfig, self.context).client(timeout)

    @classmethod
    def setup_toolchain(cls, console: "Console") -> None:
        """OpenTofu, the provider, the cdktf CLI, and the binaries of `strata cluster` (etcd, the control plane,
        kwok): `strata setup` needs no cluster."""
        target = cls.from_settings(cls.settings_model())
        target.check_cluster = False
        target._prepare(console, teardown=False)

    def prepare_machine(self, layout: "Layout", runner: "StepRunner", *, teardown: bool) -> dict[str, Any]:
        """The cluster must answer before anything is synthesized or applied (the provider is built with tofu)."""
        import httpx

        from agentstrata.targets.kubernetes.kube_client import api_error

        if not self.check_cluster:
            from agentstrata.cluster.binaries import ensure_cluster_binaries

            ensure_cluster_binaries(layout, runner)
            return {}
        hint = (f"check the kubeconfig ({self.kubeconfig}) and that its cluster is up: `strata cluster up` starts a "
                "local one and writes .strata/cluster/kubeconfig; point KUBECONFIG at it")
        with runner.step("Kubernetes API", "kubernetes-api", hint) as step:
            try:
                with self.api() as api:
                    response = api.get("/version")
            except httpx.HTTPError as exc:
                raise step.failure(f"the API server does not answer ({type(exc).__name__}: {exc})") from None
            if response.status_code != 200:
                raise step.failure(str(api_error(response, "GET /version")))
            step.outcome = f"Kubernetes {response.json().get('gitVersion', '?')} at {api.base_url}"
        return {}

    def recover_leftovers(self, session: TerraformSession, stack: "SynthesizedStack") -> list[str]:
        from agentstrata.deploy.steps import Step
        from agentstrata.targets.kubernetes.leftovers import declared_objects, delete_objects, find_leftovers

        kind_of = {self.profile.resource_type(kind): kind for kind in KINDS}
        with self.api() as api:
            found = find_leftovers(api, session.loaded.stack.name, self.namespace, declared_objects(stack, kind_of),
                                   stack.state_path)
            delete_objects(api, found.deletions)
        notes = []
        if found.deletions:
            notes.append("removed what an interrupted run created but never recorded: "
                         + ", ".join(f"{API_KINDS[kind]} {name}" for kind, _, name in found.deletions))
        if found.imports:
            # Kept by a destroy, or made by a killed apply: they hold data, so Terraform takes them back.
            step = Step("state import", session.layout.logs / "state-import.log",
                        "read the log for tofu's message; fix it, then run the same command again",
                        lambda text: None)
            for item in found.imports:
                session.tofu(step, stack, ["import", "-input=false"], [item.address, item.import_id])
            notes.append("took back into the Terraform state: " + ", ".join(
                f"{API_KINDS[item.kind]} {item.import_id}" for item in found.imports))
        if found.untouched:
            notes.append("left in place (the stack no longer declares them; remove them once their data is "
                         "saved): " + ", ".join(found.untouched))
        return notes

    def state_addresses(self, stack: "SynthesizedStack") -> dict[str, str]:
        """The claims the stack creates, and its namespace when it holds them."""
        claims = stack.resources(self.profile.resource_type("persistent_volume_claim"))
        kept = {f"{self.profile.resource_type('persistent_volume_claim')}.{address}":
                f"PersistentVolumeClaim {block['metadata']['namespace']}/{block['metadata']['name']}"
                for address, block in claims.items()}
        namespaces = stack.resources(self.profile.resource_type("namespace"))
        if kept:
            kept.update({f"{self.profile.resource_type('namespace')}.{address}":
                         f"Namespace {block['metadata']['name']}" for address, block in namespaces.items()})
        return kept

    def existing_state(self, names: list[str]) -> list[str]:
        from agentstrata.targets.kubernetes.kube_client import object_path

        with self.api() as api:
            return [name for name in names if api.get(object_path(*_kept_object(name))).status_code == 200]

    def purge_state(self, stack: "SynthesizedStack", names: list[str]) -> list[str]:
        """Delete what an earlier destroy kept (claims first, then their namespace), waiting until it is gone."""
        from agentstrata.targets.kubernetes.kube_client import api_error, object_path
        from agentstrata.targets.kubernetes.leftovers import wait_until_gone

        removed = []
        with self.api() as api:
            for name in sorted(names, key=lambda n: n.startswith("Namespace ")):
                path = object_path(*_kept_object(name))
                response = api.delete(path)
                if response.status_code not in (200, 202, 404):
                    raise api_error(response, f"deleting {name}")
                if response.status_code != 404:
                    removed.append(name)
                wait_until_gone(api, path, name)
        return removed

    def runs_as_name(self, loaded: "LoadedStack", agent: str) -> str:
        return object_name(loaded.stack.name, agent)

    def agent_states(self, loaded: "LoadedStack") -> dict[str, tuple[str, int]]:
        """Each Deployment's availability and its pods' restarts; empty when the cluster does not answer."""
        import httpx

        from agentstrata.targets.kubernetes.rollout import deployment_state

        try:
            with self.api() as api:
                states = {a.name: deployment_state(api, self.namespace, object_name(loaded.stack.name, a.name))
                          for a in loaded.stack.agent_specs}
        except (StrataError, httpx.HTTPError):
            return {}
        return {agent: (state.describe(), state.restarts) for agent, state in states.items()}

    def agent_readiness(self, loaded: "LoadedStack", urls: dict[str, str]) -> dict[str, tuple[bool, str]]:
        """Ready: its Deployment is available, which the kubelet decides on ``/ready`` inside the cluster."""
        import httpx

        from agentstrata.targets.kubernetes.rollout import deployment_state

        try:
            with self.api() as api:
                states = {agent: deployment_state(api, self.namespace, object_name(loaded.stack.name, agent))
                          for agent in urls}
        except (StrataError, httpx.HTTPError) as exc:
            why = exc.message if isinstance(exc, StrataError) else f"the API server does not answer ({exc})"
            return {agent: (False, why) for agent in urls}
        return {agent: (state.ready, state.describe()) for agent, state in states.items()}

    def wait_for_agents(self, session: TerraformSession, agents: list[AgentEndpoint], timeout: float) -> None:
        """Until every agent's Deployment is available (its pod passes ``/ready``), through the API server."""
        from agentstrata.targets.kubernetes.rollout import wait_until_available

        names = {agent.name: agent.runs_as for agent in agents}
        with session.runner.step("Deployments available", f"ready-{session.loaded.stack.name}-{self.name}", self.log_hint) as step, self.api() as api:
            states = wait_until_available(
                api, self.namespace, names, timeout,
                on_progress=lambda states: step.detail(
                    f"{sum(s.ready for s in states.values())}/{len(states)} available"),
                hint=f"{self.log_hint} (namespace {self.namespace}).",
            )
            for agent in agents:
                agent.ready = states[agent.name].describe()
            step.outcome = f"{len(agents)} of {len(agents)}"

    def logs(self, loaded: "LoadedStack", agent: str, *, lines: int, follow: bool) -> Iterator[str]:
        """The log of the agent's newest pod, from the API server (which asks the node's kubelet)."""
        import httpx

        labels = ",".join(f"{k}={v}" for k, v in selector(loaded.stack.name, agent).items())
        try:
            yield from self._pod_log(agent, labels, lines=lines, follow=follow)
        except httpx.HTTPError as exc:
            raise StrataError(f"the API server does not answer ({type(exc).__name__}: {exc})", 1) from None

    def _pod_log(self, agent: str, labels: str, *, lines: int, follow: bool) -> Iterator[str]:
        from agentstrata.targets.kubernetes.kube_client import api_error, object_path

        with self.api(timeout=None if follow else _API_TIMEOUT_S) as api:  # type: ignore[arg-type]
            listed = api.get(object_path("pod", self.namespace), params={"labelSelector": labels})
            if listed.status_code != 200:
                raise api_error(listed, f"listing the pods of agent {agent}")
            pods = sorted(listed.json().get("items", []), key=lambda p: p["metadata"]["creationTimestamp"])
            if not pods:
                raise StrataError(f"agent {agent} has no pod in namespace {self.namespace}", 1)
            pod = pods[-1]["metadata"]["name"]
            params = {"container": CONTAINER, "tailLines": str(lines), "follow": str(follow).lower()}
            with api.stream("GET", f"{object_path('pod', self.namespace, pod)}/log", params=params) as response:
                if response.status_code != 200:
                    response.read()
                    raise api_error(response, f"reading the log of pod {self.namespace}/{pod}")
                for line in response.iter_lines():
                    yield line + "\n"


def deployed_image(state_path: Path) -> str | None:
    """The image of the first Deployment a Terraform state records, if any."""
    try:
        state = json.loads(state_path.read_text() or "{}")
    except (OSError, ValueError):
        return None
    for resource in state.get("resources", []):
        if resource.get("type", "").startswith("kubernetes_deployment"):
            for instance in resource.get("instances", []):
                pod = instance["attributes"]["spec"][0]["template"][0]["spec"][0]
                return pod["container"][0]["image"]
    return None


def _kept_object(name: str) -> tuple[str, str | None, str]:
    """``PersistentVolumeClaim ns/x`` or ``Namespace x`` (as :meth:`KubernetesTarget.state_addresses` names them)
    -> (kind, namespace, name)."""
    kind, _, where = name.partition(" ")
    if kind == "Namespace":
        return "namespace", None, where
    namespace, _, claim = where.partition("/")
    return "persistent_volume_claim", namespace, claim


def _props_error(exc: ValidationError) -> StrataError:
    """Bad props: located at the user's call when a user called the constructor, else plainly."""
    messages = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        if error["type"] == "string_pattern_mismatch" and error["ctx"]["pattern"] == DNS_LABEL_PATTERN:
            message = (f"{error['input']!r} is not a DNS label (lower-case letters, digits and '-', starting and "
                       "ending with a letter or digit)")
        elif error["type"] == "value_error":
            message = str(error["ctx"]["error"])
        else:
            message = error["msg"] + (f" (got {error['input']!r})" if "input" in error else "")
        messages.append((where, message))
    frame = sys._getframe(2)  # the caller of __init__
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    if frame is None or frame.f_code.co_filename.startswith(_PACKAGE):
        return StrataError("\n".join(f"KubernetesTarget: {where}: {message}" for where, message in messages), 1)
    return SpecError([Diagnostic(shown_path(Path(frame.f_code.co_filename)), frame.f_lineno, 1, where,
                                 f"KubernetesTarget: {message}") for where, message in messages])
