"""Which agents an agent reads from, and which must be started before it.

Target independent: a target turns these into its own ordering (``depends_on`` for Docker).
"""

from __future__ import annotations

from agentstrata.schema import AgentSpec, StackSpec


def upstreams(agent: AgentSpec) -> list[str]:
    """The agents ``agent`` reads from (its dependencies and ``agent:`` sources), in declaration order."""
    found = [d.agent_name for d in agent.dependencies]
    found += [i.source_agent[0] for i in agent.interface.inputs if i.source_agent is not None]
    return list(dict.fromkeys(found))


def start_after(stack: StackSpec) -> dict[str, list[str]]:
    """For each agent, the agents that must be up before it starts.

    Its upstreams always (which orders the layers); with ``parallel_init: false`` also the agent
    declared just before it in the same layer, so that a layer starts one agent at a time.
    """
    order = {agent.name: upstreams(agent) for agent in stack.agent_specs}
    if not stack.policies.parallel_init:
        previous: dict[int, str] = {}
        for agent in stack.agent_specs:
            if agent.layer in previous and previous[agent.layer] not in order[agent.name]:
                order[agent.name].append(previous[agent.layer])
            previous[agent.layer] = agent.name
    return order
