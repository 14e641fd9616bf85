import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import re

    import marimo as mo
    from agentstrata.transforms import TransformError, parse_yaml_log

    return TransformError, mo, parse_yaml_log, re


@app.cell
def _(mo):
    from functools import partial as _partial

    from agentstrata.standalone import upstream_output as _upstream_output

    # Standalone only: in a stack the runtime injects every input and this is never called.
    upstream_output = _partial(_upstream_output, notebook_dir=mo.notebook_dir())
    return (upstream_output,)


@app.cell
def _(TransformError, parse_yaml_log, upstream_output):
    # The only cell defining this input: the runtime's app.run(defs=...) replaces it with the session
    # log already passed through the edge's parse_yaml_log transform; standalone, apply it here.
    try:
        history = parse_yaml_log(upstream_output("kb_base", "session_log", "kb_base.py"))
    except TransformError as _error:
        print(f"history: {_error}; analysing no sessions")
        history = []
    return (history,)


@app.cell
def _(re):
    MARKER = re.compile(r"^\s*(todo|blocked|done|next|question|decided|fixed|resolved)\s*:\s*", re.IGNORECASE)
    WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
    STATUS_TAGS = ("blocked", "question", "todo", "done")
    STOPWORDS = frozenset(
        "a an the and or but of to in on at by for from with without into over under as is are was were be "
        "been it its this that these those their they them we our us i me my you your not no so if then than "
        "too very can cannot could should would will just again after before during each all any some more "
        "most less per via vs up down out off about also only once still yet when while where which who what "
        "how why there here has have had do does did".split()
    )
    VERBS = frozenset(
        "add ask automate backfill benchmark build bump check choose clean clear configure debug decide deploy "
        "design disable document draft drop enable fix generate handle implement investigate isolate load-test "
        "measure merge migrate monitor move plan port profile prototype prune publish raise refactor release "
        "remove rename retry revert review roll run ship spike split sync test triage try update upgrade "
        "write".split()
    )
    IRREGULAR = {"chose": "choose", "chosen": "choose", "ran": "run", "wrote": "write", "written": "write",
                 "built": "build"}
    #: Counted as recurring from this many occurrences on.
    RECURRING = 2

    def verb(word):
        """The base form of word when it is a known verb ('Fixed' -> 'fix'), else None."""
        w = word.lower()
        if w in IRREGULAR:
            return IRREGULAR[w]
        candidates = [w]
        if w.endswith(("ies", "ied")):
            candidates.append(w[:-3] + "y")
        if w.endswith("ing"):
            candidates += [w[:-3], w[:-3] + "e", w[:-4]]
        if w.endswith("ed"):
            candidates += [w[:-2], w[:-1], w[:-3]]
        if w.endswith("es"):
            candidates += [w[:-2], w[:-1]]
        if w.endswith("s"):
            candidates.append(w[:-1])
        return next((c for c in candidates if c in VERBS), None)

    def action_of(message, tags):
        """What an entry did: its leading verb, else its marker ('Blocked:'), else its status tag."""
        text = str(message).strip()
        marker = MARKER.match(text)
        if marker:
            text = text[marker.end():]
        first = WORD.search(text.lower())
        if first and verb(first.group()):
            return verb(first.group())
        if marker:
            name = marker.group(1).lower()
            return {"decided": "decide", "fixed": "fix", "resolved": "resolve", "next": "todo"}.get(name, name)
        return next((tag for tag in STATUS_TAGS if tag in tags), "note")

    def phrases_of(message):
        """Pairs of neighbouring significant words: the phrases a message is about."""
        text = MARKER.sub("", str(message))
        significant = [w for w in WORD.findall(text.lower()) if len(w) > 1 and w not in STOPWORDS and not verb(w)]
        return {f"{a} {b}" for a, b in zip(significant, significant[1:])}

    def ranked(counter, places, key):
        """[{key: name, count, workspaces}], most frequent first, ties by name: deterministic."""
        return [
            {key: name, "count": n, "workspaces": sorted(places[name])}
            for name, n in sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        ]

    def count(counter, places, name, workspace):
        counter[name] = counter.get(name, 0) + 1
        places.setdefault(name, set()).add(workspace)

    def detect(history):
        entries = [e for e in history if isinstance(e, dict)] if isinstance(history, list) else []
        actions, action_places = {}, {}
        tags, tag_places = {}, {}
        pairs, pair_places = {}, {}
        phrases, phrase_places = {}, {}
        tag_steps, tag_step_places = {}, {}
        action_steps, action_step_places = {}, {}
        by_workspace = {}
        for index, entry in enumerate(entries):
            by_workspace.setdefault(str(entry.get("workspace", "log")), []).append((str(entry.get("timestamp", "")), index, entry))

        per_workspace = {}
        for workspace in sorted(by_workspace):
            previous = None
            local_actions, local_tags = {}, {}
            for _, _, entry in sorted(by_workspace[workspace], key=lambda item: item[:2]):
                entry_tags = sorted({str(t).lower() for t in entry.get("tags") or [] if t is not None}) \
                    if isinstance(entry.get("tags"), list) else []
                action = action_of(entry.get("message", ""), entry_tags)
                count(actions, action_places, action, workspace)
                local_actions[action] = local_actions.get(action, 0) + 1
                for tag in entry_tags:
                    count(tags, tag_places, tag, workspace)
                    local_tags[tag] = local_tags.get(tag, 0) + 1
                for i, first in enumerate(entry_tags):
                    for second in entry_tags[i + 1:]:
                        count(pairs, pair_places, (first, second), workspace)
                for phrase in phrases_of(entry.get("message", "")):
                    count(phrases, phrase_places, phrase, workspace)
                if previous is not None:
                    count(action_steps, action_step_places, (previous[0], action), workspace)
                    for before in previous[1]:
                        for after in entry_tags:
                            count(tag_steps, tag_step_places, (before, after), workspace)
                previous = (action, entry_tags)
            per_workspace[workspace] = {
                "entries": len(by_workspace[workspace]),
                "top_actions": [name for name, _ in sorted(local_actions.items(), key=lambda i: (-i[1], i[0]))[:3]],
                "top_tags": [name for name, _ in sorted(local_tags.items(), key=lambda i: (-i[1], i[0]))[:3]],
            }

        def recurring(counter):
            return {name: n for name, n in counter.items() if n >= RECURRING}

        def sequences(counter, places):
            return [
                {"from": row["step"][0], "to": row["step"][1], "count": row["count"], "workspaces": row["workspaces"]}
                for row in ranked(recurring(counter), places, "step")
            ]

        result = {
            "entries": len(entries),
            "workspaces": per_workspace,
            "actions": ranked(actions, action_places, "action"),
            "tags": ranked(tags, tag_places, "tag"),
            "tag_pairs": [
                {"tags": list(row["pair"]), "count": row["count"], "workspaces": row["workspaces"]}
                for row in ranked(recurring(pairs), pair_places, "pair")
            ],
            "phrases": ranked(recurring(phrases), phrase_places, "phrase")[:20],
            "tag_sequences": sequences(tag_steps, tag_step_places),
            "action_sequences": sequences(action_steps, action_step_places),
        }
        result["recurring"] = {
            "actions": [row["action"] for row in result["actions"] if row["count"] >= RECURRING],
            "tags": [row["tag"] for row in result["tags"] if row["count"] >= RECURRING],
            "phrases": [row["phrase"] for row in result["phrases"]],
        }
        return result

    return (detect,)


@app.cell
def _(detect, history):
    patterns = detect(history)
    return (patterns,)


@app.cell
def _(mo, patterns):
    def _table(rows, columns, label):
        if not rows:
            return mo.md(f"_{label}: none recurring yet._")
        return mo.ui.table(
            [{c: (", ".join(r[c]) if isinstance(r[c], list) else r[c]) for c in columns} for r in rows],
            selection=None,
            page_size=10,
            label=label,
        )

    mo.vstack(
        [
            mo.md(
                f"## Pattern Detector (layer 2)\n\n**{patterns['entries']}** session(s) across "
                f"**{len(patterns['workspaces'])}** workspace(s). Recurring actions: "
                f"{', '.join(patterns['recurring']['actions']) or 'none'}; recurring tags: "
                f"{', '.join(patterns['recurring']['tags']) or 'none'}."
            ),
            mo.hstack(
                [
                    _table(patterns["actions"], ("action", "count", "workspaces"), "Actions"),
                    _table(patterns["tags"], ("tag", "count", "workspaces"), "Tags"),
                ],
                widths="equal",
            ),
            _table(patterns["tag_pairs"], ("tags", "count", "workspaces"), "Tags seen together"),
            _table(patterns["phrases"], ("phrase", "count", "workspaces"), "Recurring phrases"),
            mo.hstack(
                [
                    _table(patterns["tag_sequences"], ("from", "to", "count"), "Tag sequences (consecutive sessions)"),
                    _table(patterns["action_sequences"], ("from", "to", "count"), "Action sequences (consecutive sessions)"),
                ],
                widths="equal",
            ),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
