"""The configuration a Dockerfile gives its final image, read statically (corpus checks).

Why: a fix that drops an ``ENV`` from the final stage, moves an ``EXPOSE`` into a builder
or loses a ``LABEL`` changes what the container does without breaking the build, so
the parse checks do not see it.  This reads, for the last stage and the stages it builds
on (``FROM <earlier stage>``), what BuildKit writes into the image config: environment,
labels, exposed ports, volumes, working directory, entrypoint and command, user, shell,
stop signal, health check and ONBUILD triggers.  Values are compared as BuildKit would
store them before variable expansion: quotes and escapes removed, blanks kept (its
``ProcessWord``), ``MAINTAINER`` as the author it sets, ports as ``port/proto``.
"""

from __future__ import annotations

import posixpath
from typing import Any

from dockfix.images import lookup
from dockfix.syntax import Stage, parse
from dockfix.syntax.images import parse_image_ref

#: Keys whose value is one instruction's words (the last one wins).
_LAST_WINS = ("ENTRYPOINT", "CMD", "HEALTHCHECK", "SHELL", "STOPSIGNAL", "USER")


def process_word(value: str) -> str:
    """``value`` with quotes and backslash escapes removed and blanks kept."""
    out: list[str] = []
    quote = ""
    index = 0
    while index < len(value):
        char = value[index]
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                out.append(char)
        elif quote == '"':
            if char == '"':
                quote = ""
            elif char == "\\" and index + 1 < len(value) and value[index + 1] in '"\\$`':
                index += 1
                out.append(value[index])
            else:
                out.append(char)
        elif char in "'\"":
            quote = char
        elif char == "\\" and index + 1 < len(value):
            index += 1
            out.append(value[index])
        else:
            out.append(char)
        index += 1
    return "".join(out)


def port_spec(spec: str) -> str:
    """An ``EXPOSE`` word as the image config stores it: ``[ip:][host:]port[/proto]`` ->
    ``port/proto``, protocol lower-cased, ``tcp`` by default."""
    port, _, proto = spec.partition("/")
    return f"{port.rsplit(':', 1)[-1]}/{(proto or 'tcp').lower()}"


def _lineage(stages: tuple[Stage, ...]) -> list[Stage]:
    """The last stage and the earlier stages it builds on, base first."""
    chain: list[Stage] = []
    stage: Stage | None = stages[-1] if stages else None
    while stage is not None:
        chain.insert(0, stage)
        words = stage.from_instruction.value
        ref = words[0].lower() if words else ""
        stage = next(
            (
                earlier
                for earlier in reversed(stages[: stage.index])
                if (earlier.alias or "").lower() == ref or str(earlier.index) == ref
            ),
            None,
        )
    return chain


def _base_workdir(stage: Stage) -> str:
    """The working directory the base image leaves, as the image table knows it (a
    relative WORKDIR starts there); ``/`` when it is not known."""
    words = stage.from_instruction.value
    if not words or "$" in words[0]:
        return "/"
    ref = parse_image_ref(words[0])
    name = f"{ref.registry}/{ref.name}" if ref.registry else ref.name
    traits = lookup(name, ref.tag)
    return traits.workdir if traits is not None and traits.workdir else "/"


def final_config(text: str) -> dict[str, Any]:
    """What the final stage of ``text`` writes into its image's configuration."""
    config: dict[str, Any] = {"ENV": {}, "LABEL": {}, "EXPOSE": set(), "VOLUME": set()}
    lineage = _lineage(parse(text).stages)
    workdir = _base_workdir(lineage[0]) if lineage else "/"
    for stage in lineage:
        for instruction in stage.instructions:
            cmd, words = instruction.cmd, instruction.value
            if cmd in ("ENV", "LABEL"):
                for key, value in zip(words[0::2], words[1::2], strict=False):
                    config[cmd][process_word(key)] = process_word(value)
            elif cmd == "MAINTAINER":
                config["MAINTAINER"] = " ".join(words)
            elif cmd == "EXPOSE":
                config["EXPOSE"] |= {port_spec(process_word(word)) for word in words}
            elif cmd == "VOLUME":
                config["VOLUME"] |= {process_word(word) for word in words}
            elif cmd == "WORKDIR" and words:
                workdir = posixpath.normpath(posixpath.join(workdir, process_word(words[0])))
                config["WORKDIR"] = workdir
            elif cmd in _LAST_WINS:
                config[cmd] = (instruction.is_json, tuple(words))
                if cmd == "ENTRYPOINT":
                    config.pop("CMD", None)  # setting an ENTRYPOINT clears the CMD
            elif cmd == "ONBUILD":
                config.setdefault("ONBUILD", []).append(instruction.text.strip())
    return config


def config_differences(before: str, after: str) -> list[tuple[str, str, object, object]]:
    """``(key, name, before, after)`` for each configuration value that differs."""
    old, new = final_config(before), final_config(after)
    found: list[tuple[str, str, object, object]] = []
    for key in sorted(set(old) | set(new)):
        x, y = old.get(key), new.get(key)
        if isinstance(x, dict) or isinstance(y, dict):
            x, y = x or {}, y or {}
            for name in sorted(set(x) | set(y)):
                if x.get(name) != y.get(name):
                    found.append((key, name, x.get(name), y.get(name)))
        elif x != y:
            found.append((key, "", x, y))
    return found
