"""``KubernetesTarget``: its settings are checked today; its resources are the next piece of work.

Stack files may carry a ``deployment.kubernetes`` block (the seed's example does), so the target is
registered: `strata validate` checks the block, and every lifecycle command says plainly that it
cannot deploy yet instead of failing somewhere inside cdktf.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, NoReturn

from pydantic import BaseModel

from agentstrata.targets.base.target import Target
from agentstrata.targets.kubernetes.settings import KubernetesDeployment

if TYPE_CHECKING:
    from rich.console import Console

    from agentstrata.loader import LoadedStack


class KubernetesTarget(Target):
    name: ClassVar[str] = "kubernetes"
    settings_model: ClassVar[type[BaseModel]] = KubernetesDeployment
    unavailable: ClassVar[str | None] = "no Kubernetes resources are built yet; deploy to another target"

    def __init__(self, *, namespace: str = KubernetesDeployment().namespace) -> None:
        self.namespace = namespace

    @classmethod
    def from_settings(cls, settings: BaseModel, **props: object) -> "KubernetesTarget":
        assert isinstance(settings, KubernetesDeployment)
        return cls(**{"namespace": settings.namespace, **props})  # type: ignore[arg-type]

    def deploy(self, loaded: "LoadedStack", console: "Console", *, ready_timeout: float) -> NoReturn:
        raise self.unavailable_error()

    def destroy(self, loaded: "LoadedStack", console: "Console", *, purge: bool) -> NoReturn:
        raise self.unavailable_error()

    def status(self, loaded: "LoadedStack") -> NoReturn:
        raise self.unavailable_error()
