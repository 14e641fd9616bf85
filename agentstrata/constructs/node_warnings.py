"""jsii's node-version banners, silenced by the programs that start its kernel.

jsii's kernel (a node process) prints a banner on every start when node is past jsii's support
window. Debian's node is the one this project runs on, so the banner tells users nothing they can
act on here. The kernel takes its environment from ``os.environ`` when it starts (the first
``import cdktf``) and has no other way to pass it, so program edges call
:func:`silence_node_warnings` first: the cdktf app (:func:`agentstrata.constructs.project.main`)
and the ``strata`` command. Importing a module never does.
"""

from __future__ import annotations

from collections.abc import MutableMapping

#: Variable -> value; a value the caller's environment already has is kept.
NODE_WARNING_SILENCERS = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
}


def silence_node_warnings(environ: MutableMapping[str, str]) -> None:
    """Set :data:`NODE_WARNING_SILENCERS` in ``environ`` (a program's own ``os.environ``) where unset."""
    for variable, value in NODE_WARNING_SILENCERS.items():
        environ.setdefault(variable, value)
