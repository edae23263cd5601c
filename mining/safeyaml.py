"""The one way YAML that a person supplies is read: text, lists and mappings, nothing that expands or builds.

Rule files, label mappings, allowlists and step models are YAML written by
the user, or by whoever sent them the file.  ``yaml.safe_load`` already
refuses the tags that construct Python objects, but it still expands
aliases (a "billion laughs" document of a few lines grows to gigabytes) and
reads every standard tag.  So every such file goes through
:func:`load_yaml`, which refuses, naming the file and the line:

* anchors and aliases (``&name``, ``*name``);
* any tag (``!!python/object``, ``!custom``, even ``!!str``: quote the value);
* a key given twice in one mapping (YAML would keep the last silently).
"""

from __future__ import annotations

from typing import Any

from mining.errors import MiningError

__all__ = ["load_yaml"]


def _loader() -> type:
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        """``yaml.SafeLoader`` that refuses a key given twice in one mapping."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} appears twice", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def load_yaml(
    text: str,
    *,
    source: str,
    kind: str = "these files",
    expected: str = "",
    error: type[MiningError] = MiningError,
) -> Any:
    """The document in ``text``, read from ``source`` (a file name, for messages).

    ``kind`` names the files in a refusal ("rule files hold only text, lists
    and mappings"); ``expected`` says what a valid file looks like, after a
    syntax error.  Every refusal raises ``error``.

    Examples
    --------
    >>> load_yaml("steps: [a, b]", source="model.yaml")
    {'steps': ['a', 'b']}
    """
    import yaml

    plain = f"{kind} hold only text, lists and mappings"
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = f", line {event.start_mark.line + 1}"
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                msg = f"{source}{line}: YAML anchors and aliases (&name, *name) are refused; {plain}, written out"
                raise error(msg)
            tag = getattr(event, "tag", None)
            if tag is not None:
                msg = f"{source}{line}: the YAML tag {tag!r} is refused; {plain}"
                raise error(msg)
        return yaml.load(text, Loader=_loader())  # a SafeLoader, after the checks above
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "unreadable"
        msg = f"{source}{line}: not valid YAML ({problem})" + (f"; expected {expected}" if expected else "")
        raise error(msg) from None
    except yaml.YAMLError as exc:
        msg = f"{source}: not valid YAML ({exc})" + (f"; expected {expected}" if expected else "")
        raise error(msg) from None
