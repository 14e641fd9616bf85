import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import re
    from datetime import datetime, timezone

    import marimo as mo

    return datetime, mo, re, timezone


@app.cell
def _(mo):
    from functools import partial as _partial

    from agentstrata.standalone import upstream_output as _upstream_output

    # Standalone only: in a stack the runtime injects every input and this is never called.
    upstream_output = _partial(_upstream_output, notebook_dir=mo.notebook_dir())
    return (upstream_output,)


@app.cell
def _(upstream_output):
    # The only cell defining this input: the runtime's app.run(defs=...) replaces it.
    context = upstream_output("context_loader", "context", "context_loader.py")
    return (context,)


@app.cell
def _(upstream_output):
    # The only cell defining this input: the runtime's app.run(defs=...) replaces it.
    insights = upstream_output("debriefer", "insights", "debriefer.py")
    return (insights,)


@app.cell
def _(upstream_output):
    # The only cell defining this input: the runtime's app.run(defs=...) replaces it.
    patterns = upstream_output("pattern_detector", "patterns", "pattern_detector.py")
    return (patterns,)


@app.cell
def _(datetime, timezone):
    PRIORITY_RANK = {"high": 0, "medium": 1, "low": 2}
    DEFAULT_CONTEXT = {"status": "active", "priority": "normal", "owner": None, "stale_after_days": 7}
    #: A workspace with this many open threads has them piling up.
    PILING_UP = 3

    def moment(stamp):
        if not stamp:
            return None
        try:
            value = datetime.fromisoformat(str(stamp))
        except ValueError:
            return None
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    def days_between(earlier, later):
        start, end = moment(earlier), moment(later)
        return (end - start).days if start and end else None

    def mapping(value, key):
        found = value.get(key) if isinstance(value, dict) else None
        return found if isinstance(found, dict) else {}

    def rows(value, key):
        found = value.get(key) if isinstance(value, dict) else None
        return [row for row in found if isinstance(row, dict)] if isinstance(found, list) else []

    def recommendation(kind, workspace, priority, score, action, reason, evidence):
        return {
            "id": f"{kind}:{workspace or '*'}",
            "kind": kind,
            "workspace": workspace,
            "priority": priority,
            "score": score,
            "action": action,
            "reason": reason,
            "evidence": evidence,
        }

    def workspace_recommendations(name, ctx, ins, as_of):
        found = []
        sessions = ins.get("sessions", 0)
        open_threads = ins.get("open_threads") or []
        problems = ins.get("problems") or {"errors": 0, "warnings": 0}
        important = ctx["priority"] == "high"
        if (ins and not ins.get("trusted", True)) or problems.get("errors"):
            found.append(recommendation(
                "kb-problems", name, "high", problems.get("errors", 0),
                f"Fix the KB files of {name} (see the validator's problems)",
                f"The validator rejected {name} with {problems.get('errors', 0)} error(s); its analyses are incomplete.",
                {"errors": problems.get("errors", 0), "warnings": problems.get("warnings", 0)},
            ))
        elif problems.get("warnings"):
            found.append(recommendation(
                "kb-warnings", name, "low", problems["warnings"],
                f"Tidy the KB files of {name}",
                f"The validator has {problems['warnings']} warning(s) about {name}.",
                {"warnings": problems["warnings"]},
            ))
        if not sessions:
            found.append(recommendation(
                "no-sessions", name, "low", 0,
                f"Log a first session in {name} (kb-conduit log {name} ...)",
                f"{name} has no session entries, so nothing can be handed off.",
                {"sessions": 0},
            ))
            return found
        for thread in open_threads:
            if thread.get("kind") == "blocked":
                waited = days_between(thread.get("timestamp"), as_of)
                found.append(recommendation(
                    "unblock", name, "high", waited or 0,
                    f"Unblock {name}: {thread.get('message', '')}",
                    f"Blocked since {str(thread.get('timestamp', ''))[:10]} ({waited} day(s) before the latest activity), "
                    "with no later entry closing it.",
                    {"since": thread.get("timestamp"), "days": waited, "topics": thread.get("topics", [])},
                ))
        waiting = [t for t in open_threads if t.get("kind") != "blocked"]
        if len(open_threads) >= PILING_UP:
            found.append(recommendation(
                "open-threads", name, "high" if important else "medium", len(open_threads),
                f"Triage the {len(open_threads)} open threads of {name}, oldest first: {open_threads[0].get('message', '')}",
                f"Open threads are piling up in {name} ({len(open_threads)}, oldest from "
                f"{str(open_threads[0].get('timestamp', ''))[:10]}).",
                {"open_threads": len(open_threads), "kinds": sorted({t.get("kind") for t in open_threads})},
            ))
        elif waiting:
            found.append(recommendation(
                "pick-up", name, "low", len(waiting),
                f"Pick up in {name}: {waiting[0].get('message', '')}",
                f"{len(waiting)} open thread(s) in {name}, the oldest a {waiting[0].get('kind')} from "
                f"{str(waiting[0].get('timestamp', ''))[:10]}.",
                {"open_threads": len(waiting)},
            ))
        idle = days_between(ins.get("last_activity"), as_of)
        if ctx["status"] == "active" and idle is not None and idle > ctx["stale_after_days"]:
            found.append(recommendation(
                "stale", name, "high" if important else "medium", idle,
                f"Resume or pause {name} (owner: {ctx['owner'] or 'unassigned'})",
                f"No session in {name} for {idle} day(s) (stale after {ctx['stale_after_days']}); "
                f"last: {(ins.get('last') or {}).get('summary', '')}",
                {"days_idle": idle, "stale_after_days": ctx["stale_after_days"], "last_activity": ins.get("last_activity")},
            ))
        return found

    def blocker_recommendations(patterns):
        found = []
        for pair in rows(patterns, "tag_pairs"):
            tags = pair.get("tags") or []
            if "blocked" not in tags or pair.get("count", 0) < 2:
                continue
            topic = next((t for t in tags if t != "blocked"), "blocked")
            places = pair.get("workspaces") or []
            themes = ", ".join(f"{p['phrase']} ({p['count']})" for p in rows(patterns, "phrases")[:3])
            found.append(recommendation(
                "recurring-blocker", None, "high", pair["count"],
                f"Fix the recurring '{topic}' blocker at its root, once for all workspaces",
                f"'blocked' came with '{topic}' {pair['count']} times across {', '.join(places)}"
                + (f"; recurring phrases: {themes}." if themes else "."),
                {"tag": topic, "count": pair["count"], "workspaces": places},
            ))
        return found

    def recommend(context, insights, patterns):
        contexts = mapping(context, "workspaces")
        analysed = mapping(insights, "workspaces")
        as_of = insights.get("last_activity") if isinstance(insights, dict) else None
        items, overview = [], {}
        for name in sorted(set(contexts) | set(analysed)):
            ctx = {**DEFAULT_CONTEXT, **{k: v for k, v in (contexts.get(name) or {}).items() if v is not None}}
            ins = analysed.get(name) or {}
            overview[name] = {
                "status": ctx["status"],
                "priority": ctx["priority"],
                "owner": ctx["owner"],
                "sessions": ins.get("sessions", 0),
                "last_activity": ins.get("last_activity"),
                "days_idle": days_between(ins.get("last_activity"), as_of),
                "open_threads": len(ins.get("open_threads") or []),
            }
            if ctx["status"] != "archived":
                items += workspace_recommendations(name, ctx, ins, as_of)
        items += blocker_recommendations(patterns)
        latest = max(
            (name for name in overview if overview[name]["last_activity"]),
            key=lambda name: (overview[name]["last_activity"], name),
            default=None,
        )
        if latest is not None:
            items.append(recommendation(
                "resume", latest, "low", overview[latest]["sessions"],
                f"Resume {latest}, the most recently active workspace",
                analysed[latest].get("handoff") or f"last activity {overview[latest]['last_activity']}",
                {"last_activity": overview[latest]["last_activity"]},
            ))
        items.sort(key=lambda r: (PRIORITY_RANK[r["priority"]], -r["score"], r["workspace"] or "", r["kind"]))
        return {
            "as_of": as_of,
            "counts": {level: sum(r["priority"] == level for r in items) for level in PRIORITY_RANK},
            "items": items,
            "workspaces": overview,
        }

    return (recommend,)


@app.cell
def _(context, insights, patterns, recommend):
    recommendations = recommend(context, insights, patterns)
    return (recommendations,)


@app.cell
def _(mo, recommendations):
    _counts = recommendations["counts"]
    mo.vstack(
        [
            mo.md(
                f"## Concierge (layer 3)\n\nAs of the latest activity, {recommendations['as_of'] or 'none yet'}: "
                f"**{_counts['high']}** high, **{_counts['medium']}** medium and **{_counts['low']}** low "
                "priority recommendation(s)."
            ),
            mo.ui.table(
                [
                    {key: (r[key] or "(all)") if key == "workspace" else r[key]
                     for key in ("priority", "workspace", "action", "reason")}
                    for r in recommendations["items"]
                ]
                or [{"priority": "", "workspace": "", "action": "nothing to recommend", "reason": ""}],
                selection=None,
                page_size=20,
                label="Recommendations",
            ),
            mo.ui.table(
                [{"workspace": name, **row} for name, row in recommendations["workspaces"].items()]
                or [{"workspace": "no workspaces"}],
                selection=None,
                label="Workspaces",
            ),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
