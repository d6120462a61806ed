"""The forms of an HTML page as a browser would submit them unchanged (for the load test)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class Forms(HTMLParser):
    """Every form of a page with the values a browser would submit unchanged."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": [], "choices": []})
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    form["fields"].append([name, a.get("value", "on")])
                else:
                    form["choices"].append([name, a.get("value", "on")])
            elif kind not in {"submit", "button", "file"}:
                form["fields"].append([name, a.get("value", "")])
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value", "")
            if "selected" in a:
                form["fields"].append([self._select, a.get("value", "")])
                self._select_chosen = True

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea and self.forms:
            self.forms[-1]["fields"].append([self._textarea, self._text.lstrip("\n")])
            self._textarea = None
        elif tag == "select" and self._select and self.forms:
            if not self._select_chosen and self._select_first is not None:
                self.forms[-1]["fields"].append([self._select, self._select_first])
            self._select = None


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms
