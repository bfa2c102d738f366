"""Build the course pages of lesson 7: PNG files and their judgements, from the drawings.

Run ``python -m course_utils.pages.build`` to (re)write ``course_utils/data/pages/``:
26 small PNG pages (slides, charts, tables, text pages; landscape and portrait)
and ``pages.json`` with their titles and 25 queries, each judged by the page that
answers it and the box on that page (in pixels) where the answer is.

Rendering is deterministic: matplotlib's default style with its bundled DejaVu
fonts, a fixed size and DPI, and PNG files written by Pillow with no metadata
(no date, no software name). ``tests/pages/test_pages.py`` rebuilds everything and
checks that the shipped files match.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from course_utils.pages import documents as docs
from course_utils.pages import drawings as draw

__all__ = ["build_pages", "render_page"]

#: Where the shipped pages live.
PAGES_DIR = Path(__file__).with_name("data") / "pages"

#: (page id, title, kind, orientation, drawing function).
PAGES = [
    ("p01", "Annual review title slide", "slide", "landscape", draw.draw_title_slide),
    ("p02", "Three goals for 2025", "slide", "landscape", draw.draw_goals_slide),
    ("p03", "Customer survey: 98%", "slide", "landscape", draw.draw_big_number_slide),
    ("p04", "Roadmap of new cafes", "slide", "landscape", draw.draw_roadmap_slide),
    ("p05", "Search pipeline diagram", "slide", "landscape", draw.draw_pipeline_slide),
    ("p06", "Who to ask", "slide", "landscape", draw.draw_team_slide),
    ("p07", "Contents", "slide", "landscape", docs.draw_contents_slide),
    ("p08", "Coffee production by country", "bar chart", "landscape", draw.draw_coffee_bars),
    ("p09", "Rainfall in Bergen", "bar chart", "portrait", draw.draw_rainfall_bars),
    ("p10", "Languages used by developers", "bar chart", "landscape", draw.draw_language_bars),
    ("p11", "Average temperature, Madrid and Oslo", "line chart", "landscape", draw.draw_temperature_lines),
    ("p12", "Website visits per week", "line chart", "landscape", draw.draw_visitor_lines),
    ("p13", "Where our electricity comes from", "pie chart", "portrait", draw.draw_energy_pie),
    ("p14", "Storage of one vector", "bar chart", "landscape", draw.draw_storage_bars),
    ("p15", "The giant planets", "table", "landscape", docs.draw_planet_table),
    ("p16", "Train timetable Paris - Marseille", "table", "portrait", docs.draw_timetable),
    ("p17", "Nutrition of fruit", "table", "landscape", docs.draw_nutrition_table),
    ("p18", "Revenue by region", "table", "landscape", docs.draw_revenue_table),
    ("p19", "Football league table", "table", "portrait", docs.draw_league_table),
    ("p20", "Library opening hours", "table", "portrait", docs.draw_opening_hours),
    ("p21", "Weather in Lisbon", "table", "landscape", docs.draw_weather_table),
    ("p22", "A short history of the bicycle", "text", "portrait", docs.draw_bicycle_page),
    ("p23", "Apple pie recipe", "text", "portrait", docs.draw_recipe_page),
    ("p24", "Office memo", "text", "portrait", docs.draw_memo_page),
    ("p25", "Invoice", "form", "portrait", docs.draw_invoice_page),
    ("p26", "Jazz festival poster", "poster", "portrait", docs.draw_festival_poster),
]

#: (query id, text, page id, name of the part of the page that answers it).
QUERIES = [
    ("q01", "Who presented the annual review?", "p01", "presenter"),
    ("q02", "By how much will delivery emissions be cut?", "p02", "emissions"),
    ("q03", "What share of customers would recommend us?", "p03", "number"),
    ("q04", "When does the new cafe in Oslo open?", "p04", "oslo"),
    ("q05", "Which model reranks the search candidates?", "p05", "rerank"),
    ("q06", "Who should I ask about coffee suppliers?", "p06", "aiko"),
    ("q07", "Which country produces the most coffee?", "p08", "brazil"),
    ("q08", "What is the wettest month in Bergen?", "p09", "october"),
    ("q09", "Which programming language do most of our developers use?", "p10", "python"),
    ("q10", "How cold is Oslo in January?", "p11", "oslo_winter"),
    ("q11", "When did the website visits spike?", "p12", "launch"),
    ("q12", "What share of our electricity comes from wind?", "p13", "wind"),
    ("q13", "How many bytes does a binary vector take?", "p14", "binary"),
    ("q14", "How many moons does Saturn have?", "p15", "saturn_moons"),
    ("q15", "When does the train arrive in Lyon?", "p16", "lyon_arrival"),
    ("q16", "How much vitamin C is in a kiwi?", "p17", "kiwi_vitamin_c"),
    ("q17", "What was the revenue in Asia in Q4?", "p18", "asia_q4"),
    ("q18", "Which team won the Harbour League?", "p19", "leader"),
    ("q19", "Is the library open on Sunday?", "p20", "sunday"),
    ("q20", "Will it rain in Lisbon on Wednesday?", "p21", "wednesday_rain"),
    ("q21", "Who built the safety bicycle?", "p22", "starley"),
    ("q22", "At what temperature should the apple pie bake?", "p23", "oven"),
    ("q23", "When is the office closed?", "p24", "closed"),
    ("q24", "What is the total due on the invoice?", "p25", "total"),
    ("q25", "When is the jazz festival?", "p26", "dates"),
]

_STYLE = {"font.family": "DejaVu Sans", "text.hinting": "force_autohint",
          "text.antialiased": True, "path.simplify": True, "svg.hashsalt": "course"}


def render_page(drawing, orientation: str) -> tuple[np.ndarray, dict[str, list[int]]]:
    """Draw one page; return its uint8 ``(height, width, 3)`` pixels and ``{part: [x0, y0, x1, y1]}``.

    A part drawn as several artists (a tuple) gets the box around all of them. Boxes
    are in pixels from the top-left corner, rounded outwards to whole pixels.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    size = draw.LANDSCAPE if orientation == "landscape" else draw.PORTRAIT
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(_STYLE)
        fig = Figure(figsize=size, dpi=draw.DPI, facecolor="white")
        canvas = FigureCanvasAgg(fig)
        parts = drawing(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        pixels = np.asarray(canvas.buffer_rgba())[..., :3].copy()
        height = pixels.shape[0]
        boxes = {}
        for name, artists in parts.items():
            from matplotlib.transforms import Bbox

            artists = artists if isinstance(artists, (tuple, list)) else [artists]
            extent = Bbox.union([artist.get_window_extent(renderer) for artist in artists])
            boxes[name] = [int(np.floor(extent.x0)), int(np.floor(height - extent.y1)),
                           int(np.ceil(extent.x1)), int(np.ceil(height - extent.y0))]
    return pixels, boxes


def build_pages(folder: str | Path = PAGES_DIR) -> dict:
    """Render every page into ``folder`` (PNG files and ``pages.json``); return the judgements written.

    Returns:
        ``{"pages": [{id, file, title, kind, orientation, width, height}], "queries": [{id, text, page, box,
        points_at}]}``, as written to ``pages.json``.
    """
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pages, boxes = [], {}
    for page_id, title, kind, orientation, drawing in PAGES:
        pixels, boxes[page_id] = render_page(drawing, orientation)
        file = f"{page_id}.png"
        Image.fromarray(pixels, "RGB").save(folder / file, optimize=True)
        pages.append({"id": page_id, "file": file, "title": title, "kind": kind, "orientation": orientation,
                      "width": int(pixels.shape[1]), "height": int(pixels.shape[0])})
    queries = [{"id": query_id, "text": text, "page": page_id, "box": boxes[page_id][part], "points_at": part}
               for query_id, text, page_id, part in QUERIES]
    data = {"pages": pages, "queries": queries}
    (folder / "pages.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data


if __name__ == "__main__":
    written = build_pages()
    print(f"{len(written['pages'])} pages and {len(written['queries'])} queries written to {PAGES_DIR}")
