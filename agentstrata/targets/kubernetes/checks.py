"""The Kubernetes target's own rules: what the stack must satisfy before anything reaches a cluster.

Each finding is located in the stack file, with its K-code; `strata validate` reports them for every
stack that allows the target, `strata synth`/`deploy`/`export k8s` refuse to go on while there is one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from agentstrata.errors import Diagnostic, SpecError
from agentstrata.loader import LoadedStack
from agentstrata.targets.base.packaged_spec import PackagedSpecs, read_notebook
from agentstrata.targets.kubernetes.config_map import MAX_BYTES, config_map_data, data_size
from agentstrata.targets.kubernetes.environment import TARGET_ENV
from agentstrata.targets.kubernetes.naming import MAX_NAME, object_name
from agentstrata.targets.kubernetes.quantities import memory_bytes, millicores
from agentstrata.wire import KB_DIR, KB_ROOT_ENV
from agentstrata.workspace import reads_workspace

if TYPE_CHECKING:
    from agentstrata.targets.kubernetes.target import KubernetesTarget

RULES = {
    "K001": "object names (stack + agent) fit in a DNS label, and no two agents share one",
    "K002": "an agent's ConfigMap (its notebook and spec) fits in the API server's 1 MiB",
    "K003": "an agent's env does not redefine a variable the kubernetes target sets",
    "K004": "cpu is a whole number of millicores and memory a whole number of bytes, both above zero",
    "K005": "ui_ingress_from names agents of the stack",
    "K006": "an agent the UI ingress reaches declares its own port",
    "K007": "file: inputs read the KB (${" + KB_ROOT_ENV + "} or " + str(KB_DIR) + "): no other file is in a pod",
}
_UI = ("deployment", "kubernetes", "ui_ingress_from")


def target_checks(loaded: LoadedStack, target: "KubernetesTarget") -> list[Diagnostic]:
    return [*_names(loaded), *_agents(loaded), *_ui_ingress(loaded, target)]


def _names(loaded: LoadedStack) -> Iterator[Diagnostic]:
    spec = loaded.stack
    owners: dict[str, str] = {}
    for agent in spec.agent_specs:
        here = loaded.agent_loc(agent.name) + ("name",)
        name = object_name(spec.name, agent.name)
        if len(name) > MAX_NAME:
            yield loaded.diagnostic(here, f"Kubernetes object name {name!r} is longer than {MAX_NAME} characters "
                                    f"(stack {spec.name!r} + agent {agent.name!r}); shorten either", "K001")
        elif name in owners:
            yield loaded.diagnostic(here, f"agents {owners[name]!r} and {agent.name!r} both map to the Kubernetes "
                                    f"name {name!r}; rename one", "K001")
        owners.setdefault(name, agent.name)


def _agents(loaded: LoadedStack) -> Iterator[Diagnostic]:
    specs = PackagedSpecs(loaded.stack, "kubernetes", loaded.root, Path(str(KB_DIR)))
    for agent in loaded.stack.agent_specs:
        here = loaded.agent_loc(agent.name)
        try:
            notebook = read_notebook(loaded, agent)
        except SpecError:
            notebook = None  # S015 reports it
        if notebook is not None:
            size = data_size(config_map_data(notebook, specs.for_agent(agent)))
            if size > MAX_BYTES:
                yield loaded.diagnostic(here + ("implementation", "path"), (
                    f"agent {agent.name!r}: its notebook and spec take {size:,} bytes, over the {MAX_BYTES:,} "
                    "a ConfigMap may hold; move data out of the notebook (into the KB or an input)"), "K002")
        for key in agent.env:
            if key in TARGET_ENV:
                yield loaded.diagnostic(here + ("env", key), f"env {key!r} of agent {agent.name!r} conflicts with "
                                        f"the kubernetes target's {key}={TARGET_ENV[key]}", "K003", key=True)
        cpu, memory = agent.resources.cpu, agent.resources.memory
        if cpu is not None:
            milli = millicores(cpu)
            if milli <= 0 or milli != milli.to_integral_value():
                yield loaded.diagnostic(here + ("resources", "cpu"), f"cpu {cpu} is not a whole number of "
                                        "millicores above zero (Kubernetes counts 1m = 0.001 cores)", "K004")
        if memory is not None:
            size_bytes = memory_bytes(memory)
            if size_bytes <= 0 or size_bytes != size_bytes.to_integral_value():
                yield loaded.diagnostic(here + ("resources", "memory"), f"memory {memory} is not a whole number "
                                        f"of bytes above zero ({Decimal(size_bytes):f} bytes)", "K004")
        for index, source in enumerate(agent.interface.inputs):
            if source.source_kind != "file" or reads_workspace(source):
                continue
            yield loaded.diagnostic(here + ("interface", "inputs", index, "source"), (
                f"{source.source!r} is not in agent {agent.name!r}'s pod: of this machine's files a pod gets the "
                f"KB alone (at {KB_DIR}, with 'workspace: read'); read it from there: "
                f"'file:${{{KB_ROOT_ENV}}}/...'"), "K007")


def _ui_ingress(loaded: LoadedStack, target: "KubernetesTarget") -> Iterator[Diagnostic]:
    ui = target.ui_ingress_from
    if ui is None:
        return
    names = [a.name for a in loaded.stack.agent_specs]
    chosen = ui.agents if ui.agents is not None else names
    for index, name in enumerate(chosen):
        here = _UI + (("agents", index) if ui.agents is not None else ())
        agent = loaded.stack.agent(name)
        if agent is None:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            yield loaded.diagnostic(here, f"ui_ingress_from names unknown agent {name!r}{hint}", "K005")
        elif not loaded.stack.port_fixed(name):
            yield loaded.diagnostic(here, (
                f"the UI ingress reaches agent {name!r}, which has no port of its own (it gets {agent.port} from "
                "its place in the file, and moves when agents are added); give it a 'port'"), "K006")
