"""Horizontal bar charts as server-side SVG: where each heading, bar and value goes.

No JavaScript and no chart library: the page draws `Chart.rows` as `<text>` and `<rect>`
elements (fine under the CSP), and the table next to the chart stays the accessible source of
the figures. A statistics page adds its headings and bars in order; a suppressed figure gets
no bar, only the dash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROW_HEIGHT = 26


@dataclass(frozen=True)
class ChartRow:
    """One line: a group heading, or one bar with its value (None: hidden, shown as a dash)."""

    y: int
    label: str
    label_width: int
    heading: bool = False
    width: float = 0
    value: object = None

    @property
    def text_y(self) -> int:
        return self.y + 17

    @property
    def bar_y(self) -> int:
        return self.y + 4

    @property
    def bar_x(self) -> int:
        return self.label_width

    @property
    def value_x(self) -> float:
        return self.label_width + self.width + 6


@dataclass
class Chart:
    """`label_width` pixels of labels, then up to `bar_space` pixels of bar, then the value."""

    label_width: int
    bar_space: int
    rows: list[ChartRow] = field(default_factory=list)

    @property
    def height(self) -> int:
        return len(self.rows) * ROW_HEIGHT + 4

    @property
    def width(self) -> int:
        return self.label_width + self.bar_space + 60

    def heading(self, label: str) -> None:
        self.rows.append(ChartRow(self._y(), label, self.label_width, heading=True))

    def bar(self, label: str, fraction: float | None, value: object) -> None:
        """A bar `fraction` (0-1) of the bar space long; None or 0 draws no bar."""
        width = round(max(0.0, min(fraction or 0.0, 1.0)) * self.bar_space, 1)
        self.rows.append(ChartRow(self._y(), label, self.label_width, width=width, value=value))

    def _y(self) -> int:
        return len(self.rows) * ROW_HEIGHT
