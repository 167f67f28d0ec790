"""Rules 8 and 16: Fluig widgets (.war, .ear, .jar) and configuration files."""

from __future__ import annotations

from typing import Iterator

from reconciler.model import capabilities as caps
from reconciler.model.diagnostics import Diagnostic, error
from reconciler.spec.rules import document_rule

_CONFIG_EXTENSIONS = {"standaloneXml": ".xml", "standaloneConf": ".conf"}


@document_rule("Environment")
def widgets(doc: dict) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for index, widget in enumerate(doc["spec"].get("widgets") or []):
        file, path = widget["file"], ("spec", "widgets", index, "file")
        if not str(file).lower().endswith(caps.WIDGET_EXTENSIONS):
            yield error("widget-extension", f"'{file}' is not a widget file", path,
                        "only .ear (Enterprise Archive), .war (Web Archive) and .jar (Java Archive) files are accepted")
        if file in seen:
            yield error("widget-unique", f"widget '{file}' is listed twice", path, "list each widget once")
        seen.add(file)


@document_rule("Environment")
def fluig_config(doc: dict) -> Iterator[Diagnostic]:
    config = doc["spec"].get("fluigConfig") or {}
    for key, extension in _CONFIG_EXTENSIONS.items():
        file = config.get(key)
        if isinstance(file, str) and not file.lower().endswith(extension):
            yield error("fluig-config", f"'{file}' does not look like a {extension} file", ("spec", "fluigConfig", key),
                        f"{key} points at the {'standalone' + extension} file of the repository")
