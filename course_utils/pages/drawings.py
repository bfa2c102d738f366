"""The drawings of the course pages (lesson 7): slides, charts, tables and text pages.

Each ``draw_*`` function draws one page on a matplotlib ``Figure`` and returns
``{name: artist}`` for the parts that a query can point at (a bar, a table cell,
a line of text). :mod:`course_utils.pages.build` turns those artists into pixel
boxes and writes the PNG files; this module only draws.

Everything is made up for the course (names, numbers), and drawn with
matplotlib's own DejaVu Sans font, so the pages render the same everywhere.
"""

from __future__ import annotations

__all__ = [
    "draw_big_number_slide",
    "draw_coffee_bars",
    "draw_energy_pie",
    "draw_goals_slide",
    "draw_language_bars",
    "draw_pipeline_slide",
    "draw_rainfall_bars",
    "draw_roadmap_slide",
    "draw_storage_bars",
    "draw_team_slide",
    "draw_temperature_lines",
    "draw_title_slide",
    "draw_visitor_lines",
]

#: Page sizes in inches at :data:`DPI`: 512 x 288 pixels (landscape) and 360 x 480 (portrait).
LANDSCAPE = (5.12, 2.88)
PORTRAIT = (3.6, 4.8)
DPI = 100

_INK = "#1f2933"
_ACCENT = "#1565c0"
_BAR = "#90a4ae"


def _slide(fig, title: str, colour: str = _ACCENT):
    """A slide: coloured title band over a white page; returns the title artist."""
    from matplotlib.patches import Rectangle

    band = fig.add_axes((0, 0.8, 1, 0.2))
    band.set_axis_off()
    band.add_patch(Rectangle((0, 0), 1, 1, color=colour, transform=band.transAxes))
    return band.text(0.04, 0.45, title, color="white", fontsize=15, weight="bold", va="center",
                     transform=band.transAxes)


def _lines(fig, x: float, y: float, lines: list[str], step: float, size: float = 9, **style) -> list:
    """Text lines from (x, y) downwards in figure fractions; returns their artists."""
    return [fig.text(x, y - i * step, line, fontsize=size, color=_INK, va="top", **style)
            for i, line in enumerate(lines)]


def _bars(ax, labels, values, highlight: int, horizontal: bool = False):
    """Grey bars with one in the accent colour; returns the bar artists."""
    colours = [_ACCENT if i == highlight else _BAR for i in range(len(values))]
    bars = (ax.barh(labels, values, color=colours) if horizontal else ax.bar(labels, values, color=colours))
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=7)
    return list(bars)


def _table(fig, rect, columns, rows, size: float = 8):
    """A table filling ``rect`` (figure fractions); returns the matplotlib Table."""
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    table = ax.table(cellText=rows, colLabels=columns, loc="upper center", cellLoc="center",
                     bbox=(0, 0, 1, 1))
    table.auto_set_font_size(False)
    table.set_fontsize(size)
    for (row, _col), cell in table.get_celld().items():
        cell.set_edgecolor("#b0bec5")
        if row == 0:
            cell.set_facecolor("#e3f2fd")
            cell.get_text().set_weight("bold")
    return table


# ----- slides ----------------------------------------------------------------------------------

def draw_title_slide(fig):
    title = fig.text(0.5, 0.62, "Northwind Coffee", fontsize=24, weight="bold", color=_ACCENT, ha="center")
    year = fig.text(0.5, 0.45, "Annual Review 2024", fontsize=16, color=_INK, ha="center")
    who = fig.text(0.5, 0.22, "presented by Mara Okafor, Chief Financial Officer", fontsize=9,
                   color="#52606d", ha="center")
    return {"title": title, "year": year, "presenter": who}


def draw_goals_slide(fig):
    _slide(fig, "Three goals for 2025")
    items = _lines(fig, 0.08, 0.68, ["1.  Open 12 new cafes in Europe", "2.  Cut delivery emissions by 30%",
                                     "3.  Launch an oat-milk range"], 0.17, size=12)
    return {"cafes": items[0], "emissions": items[1], "oat": items[2]}


def draw_big_number_slide(fig):
    _slide(fig, "Customer survey", colour="#2e7d32")
    number = fig.text(0.3, 0.38, "98%", fontsize=48, weight="bold", color="#2e7d32", ha="center", va="center")
    words = _lines(fig, 0.55, 0.55, ["of customers would", "recommend us to a friend", "(4,812 answers)"],
                   0.12, size=11)
    return {"number": number, "words": words[0]}


def draw_roadmap_slide(fig):
    import matplotlib.patches as patches

    _slide(fig, "Roadmap: new cafes")
    found = {}
    for i, (quarter, city) in enumerate([("Q1", "Berlin"), ("Q2", "Lisbon"), ("Q3", "Oslo"), ("Q4", "Tokyo")]):
        x = 0.05 + i * 0.235
        box = fig.add_artist(patches.FancyBboxPatch((x, 0.25), 0.2, 0.35, boxstyle="round,pad=0.01",
                                                    transform=fig.transFigure, facecolor="#e3f2fd",
                                                    edgecolor=_ACCENT))
        fig.text(x + 0.1, 0.5, quarter, fontsize=14, weight="bold", color=_ACCENT, ha="center")
        fig.text(x + 0.1, 0.33, city, fontsize=11, color=_INK, ha="center")
        found[city.lower()] = box
    return found


def draw_pipeline_slide(fig):
    import matplotlib.patches as patches

    _slide(fig, "Our search pipeline", colour="#6a1b9a")
    found = {}
    steps = [("query", "Query"), ("bm25", "BM25\n1000 hits"), ("rerank", "ColBERT\nrerank top 50"),
             ("answer", "Top 10\nanswers")]
    for i, (name, label) in enumerate(steps):
        x = 0.04 + i * 0.245
        found[name] = fig.add_artist(patches.FancyBboxPatch((x, 0.28), 0.19, 0.3, boxstyle="round,pad=0.01",
                                                            transform=fig.transFigure, facecolor="#f3e5f5",
                                                            edgecolor="#6a1b9a"))
        fig.text(x + 0.095, 0.43, label, fontsize=9, ha="center", va="center", color=_INK)
        if i:
            fig.add_artist(patches.FancyArrow(x - 0.05, 0.43, 0.035, 0, width=0.01, transform=fig.transFigure,
                                              color="#6a1b9a"))
    return found


def draw_team_slide(fig):
    _slide(fig, "Who to ask", colour="#ef6c00")
    people = [("Mara Okafor", "finance and budgets"), ("Jonas Weber", "cafe openings"),
              ("Aiko Tanaka", "suppliers and beans"), ("Luis Romero", "website and app")]
    found = {}
    for i, (name, role) in enumerate(people):
        y = 0.7 - i * 0.16
        who = fig.text(0.08, y, name, fontsize=11, weight="bold", color=_INK, va="top")
        found[name.split()[0].lower()] = (who, fig.text(0.45, y, role, fontsize=11, color=_INK, va="top"))
    return found


# ----- charts ----------------------------------------------------------------------------------

def draw_coffee_bars(fig):
    ax = fig.add_axes((0.1, 0.15, 0.85, 0.68))
    bars = _bars(ax, ["Brazil", "Vietnam", "Colombia", "Indonesia", "Ethiopia"], [3.0, 1.8, 0.8, 0.7, 0.5], 0)
    ax.set_ylabel("million tonnes", fontsize=8)
    fig.text(0.5, 0.92, "Coffee production by country", fontsize=12, weight="bold", ha="center")
    return {"brazil": bars[0], "ethiopia": bars[4]}


def draw_rainfall_bars(fig):
    ax = fig.add_axes((0.15, 0.12, 0.8, 0.72))
    months = ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"]
    bars = _bars(ax, range(12), [190, 150, 170, 110, 100, 120, 140, 190, 280, 300, 260, 240], 9)
    ax.set_xticks(range(12), months)
    ax.set_ylabel("rain (mm)", fontsize=8)
    fig.text(0.5, 0.93, "Rainfall in Bergen", fontsize=12, weight="bold", ha="center")
    return {"october": bars[9], "may": bars[4]}


def draw_language_bars(fig):
    ax = fig.add_axes((0.2, 0.17, 0.75, 0.66))
    names = ["Go", "Rust", "Java", "TypeScript", "Python"]
    bars = _bars(ax, names, [14, 18, 30, 38, 51], 4, horizontal=True)
    ax.set_xlabel("% of developers", fontsize=8)
    fig.text(0.5, 0.91, "Languages used by our developers", fontsize=12, weight="bold", ha="center")
    return {"python": bars[4], "go": bars[0]}


def draw_temperature_lines(fig):
    ax = fig.add_axes((0.1, 0.14, 0.86, 0.68))
    madrid = [6, 8, 11, 13, 17, 23, 26, 26, 21, 15, 10, 7]
    oslo = [-4, -4, 0, 5, 10, 15, 17, 16, 11, 6, 1, -3]
    ax.plot(range(12), madrid, "-o", color="#d84315", markersize=3, label="Madrid")
    ax.plot(range(12), oslo, "-o", color=_ACCENT, markersize=3, label="Oslo")
    ax.set_xticks(range(12), ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="upper left")
    note = ax.annotate("Oslo -4 °C", (0, -4), (1.6, -7), fontsize=7, arrowprops={"arrowstyle": "->"})
    ax.set_ylim(-9, 30)
    fig.text(0.5, 0.91, "Average temperature (°C)", fontsize=12, weight="bold", ha="center")
    return {"oslo_winter": note}


def draw_visitor_lines(fig):
    ax = fig.add_axes((0.12, 0.15, 0.84, 0.66))
    visits = [12, 13, 12, 14, 15, 14, 41, 22, 17, 16, 16, 17]
    ax.plot(range(1, 13), visits, color="#00897b")
    ax.set_xticks(range(1, 13))
    ax.tick_params(labelsize=7)
    ax.set_xlabel("week", fontsize=8)
    ax.set_ylabel("visits (thousands)", fontsize=8)
    spike = ax.annotate("app launch", (7, 41), (8.2, 36), fontsize=8, arrowprops={"arrowstyle": "->"})
    fig.text(0.5, 0.91, "Website visits per week", fontsize=12, weight="bold", ha="center")
    return {"launch": spike}


def draw_energy_pie(fig):
    ax = fig.add_axes((0.1, 0.08, 0.8, 0.7))
    shares = [38, 22, 18, 14, 8]
    names = ["wind", "solar", "hydro", "gas", "other"]
    wedges, texts = ax.pie(shares, labels=[f"{n} {s}%" for n, s in zip(names, shares)], startangle=90,
                           colors=["#42a5f5", "#ffca28", "#26a69a", "#bdbdbd", "#e0e0e0"],
                           textprops={"fontsize": 8})
    fig.text(0.5, 0.9, "Where our electricity\ncomes from", fontsize=12, weight="bold", ha="center", va="center")
    return {"wind": texts[0], "gas": texts[3]}


def draw_storage_bars(fig):
    ax = fig.add_axes((0.14, 0.14, 0.82, 0.68))
    bars = _bars(ax, ["float32", "float16", "int8", "binary"], [512, 256, 128, 16], 3)
    labels = [ax.text(bar.get_x() + bar.get_width() / 2, value + 8, str(value), ha="center", fontsize=7)
              for bar, value in zip(bars, [512, 256, 128, 16])]
    ax.set_ylabel("bytes per vector", fontsize=8)
    fig.text(0.5, 0.91, "Storage of one 128-d vector", fontsize=12, weight="bold", ha="center")
    return {"binary": (bars[3], labels[3]), "float32": (bars[0], labels[0])}
