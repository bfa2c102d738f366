"""The table and text pages of the course pages (lesson 7); see :mod:`course_utils.pages.drawings`.

Each ``draw_*`` function draws one page on a matplotlib ``Figure`` and returns
``{name: artist}`` for the parts a query can point at.
"""

from __future__ import annotations

from course_utils.pages.drawings import _INK, _lines, _slide, _table

__all__ = [
    "draw_bicycle_page",
    "draw_contents_slide",
    "draw_festival_poster",
    "draw_invoice_page",
    "draw_league_table",
    "draw_memo_page",
    "draw_nutrition_table",
    "draw_opening_hours",
    "draw_planet_table",
    "draw_recipe_page",
    "draw_revenue_table",
    "draw_timetable",
    "draw_weather_table",
]


def _heading(fig, text: str, y: float = 0.93, size: float = 12):
    return fig.text(0.5, y, text, fontsize=size, weight="bold", ha="center", va="center", color=_INK)


# ----- tables ----------------------------------------------------------------------------------

def draw_planet_table(fig):
    _heading(fig, "The giant planets")
    rows = [["Jupiter", "142,984", "95", "11.9"], ["Saturn", "120,536", "146", "29.4"],
            ["Uranus", "51,118", "28", "84.0"], ["Neptune", "49,528", "16", "164.8"]]
    table = _table(fig, (0.05, 0.08, 0.9, 0.74), ["planet", "diameter (km)", "moons", "orbit (years)"], rows)
    return {"saturn_moons": table[2, 2], "neptune_year": table[4, 3]}


def draw_timetable(fig):
    _heading(fig, "Train 9241  Paris - Marseille", size=10)
    rows = [["Paris Gare de Lyon", "", "07:12"], ["Dijon", "08:51", "08:54"], ["Lyon Part-Dieu", "10:05", "10:12"],
            ["Valence", "11:01", "11:03"], ["Avignon", "11:38", "11:41"], ["Marseille", "12:24", ""]]
    table = _table(fig, (0.05, 0.1, 0.9, 0.75), ["station", "arrives", "leaves"], rows, size=7.5)
    table.auto_set_column_width([0])
    return {"lyon_arrival": table[3, 1], "marseille": table[6, 1]}


def draw_nutrition_table(fig):
    _heading(fig, "Nutrition per 100 g of fruit")
    rows = [["apple", "52", "14", "4.6"], ["banana", "89", "23", "8.7"], ["kiwi", "61", "15", "93"],
            ["orange", "47", "12", "53"]]
    table = _table(fig, (0.05, 0.08, 0.9, 0.74), ["fruit", "energy (kcal)", "sugar (g)", "vitamin C (mg)"], rows)
    return {"kiwi_vitamin_c": table[3, 3], "banana_energy": table[2, 1]}


def draw_revenue_table(fig):
    _heading(fig, "Revenue by region (million EUR)")
    rows = [["Europe", "41.2", "43.8", "40.1", "52.6"], ["Americas", "18.5", "19.9", "21.4", "24.0"],
            ["Asia", "9.7", "11.2", "12.9", "17.3"]]
    table = _table(fig, (0.05, 0.1, 0.9, 0.7), ["region", "Q1", "Q2", "Q3", "Q4"], rows)
    return {"asia_q4": table[3, 4], "europe_q1": table[1, 1]}


def draw_league_table(fig):
    _heading(fig, "Harbour League, final table", size=10)
    rows = [["1", "Northport Rovers", "38", "81"], ["2", "Eastfield United", "38", "77"],
            ["3", "Kingsbridge FC", "38", "70"], ["4", "Millbrook Town", "38", "61"],
            ["5", "Westlake Athletic", "38", "55"], ["6", "Stonehaven City", "38", "48"]]
    table = _table(fig, (0.04, 0.12, 0.92, 0.72), ["#", "team", "played", "points"], rows, size=7.5)
    table.auto_set_column_width([1])
    return {"leader": table[1, 1], "last": table[6, 1]}


def draw_opening_hours(fig):
    _heading(fig, "City Library opening hours", size=10)
    rows = [["Monday", "09:00 - 18:00"], ["Tuesday", "09:00 - 18:00"], ["Wednesday", "09:00 - 20:00"],
            ["Thursday", "09:00 - 18:00"], ["Friday", "09:00 - 17:00"], ["Saturday", "10:00 - 14:00"],
            ["Sunday", "closed"]]
    table = _table(fig, (0.1, 0.1, 0.8, 0.75), ["day", "open"], rows)
    return {"sunday": table[7, 1], "wednesday": table[3, 1]}


def draw_weather_table(fig):
    _heading(fig, "Weather this week in Lisbon")
    rows = [["sunny", "cloudy", "rain", "sunny", "windy"], ["24", "21", "17", "23", "20"],
            ["0", "10", "85", "5", "20"]]
    table = _table(fig, (0.16, 0.12, 0.8, 0.66), ["Mon", "Tue", "Wed", "Thu", "Fri"], rows)
    for i, label in enumerate(["sky", "max °C", "rain %"]):
        fig.text(0.14, 0.12 + 0.66 * (2.5 - i) / 4, label, fontsize=8, ha="right", va="center", color=_INK)
    return {"wednesday_rain": table[3, 2], "monday_sky": table[1, 0]}


# ----- text pages ------------------------------------------------------------------------------

_BICYCLE = """The first two-wheeled machine, Karl Drais's
running machine of 1817, had no pedals: riders
pushed it along with their feet. In the 1860s
French makers fixed pedals to the front wheel.
To go faster the front wheel grew, until the
high-wheeler of the 1870s stood taller than
its rider and threw many of them over the bars.
The safety bicycle, built by John Kemp Starley
in 1885, brought back two equal wheels and a
chain to the rear wheel. Air-filled tyres
followed in 1888, and within ten years the
bicycle had become ordinary transport for
millions of people in Europe and America.""".splitlines()


def draw_bicycle_page(fig):
    _heading(fig, "A short history of the bicycle", y=0.94, size=11)
    lines = _lines(fig, 0.06, 0.86, _BICYCLE, 0.062, size=8.2)
    fig.text(0.5, 0.03, "page 12", fontsize=7, ha="center", color="#52606d")
    return {"starley": lines[7], "drais": lines[0]}


def draw_recipe_page(fig):
    _heading(fig, "Grandma's apple pie", y=0.94, size=11)
    steps = ["Ingredients: 6 apples, 250 g flour, 125 g butter,", "100 g sugar, 1 egg, cinnamon.", "",
             "1. Rub the butter into the flour, add the egg", "    and chill the dough for 30 minutes.",
             "2. Peel and slice the apples; mix them with", "    the sugar and the cinnamon.",
             "3. Line the tin with two thirds of the dough,", "    fill it, cover with the rest.",
             "4. Bake at 190 °C for 45 minutes,", "    until the crust is golden.",
             "", "Serves 8. Best with vanilla ice cream."]
    lines = _lines(fig, 0.06, 0.86, steps, 0.062, size=8.2)
    return {"oven": lines[9], "ingredients": lines[0]}


def draw_memo_page(fig):
    _heading(fig, "MEMO", y=0.93, size=14)
    head = _lines(fig, 0.08, 0.84, ["To: all staff", "From: Facilities", "Date: 2 December 2024"], 0.05, size=8)
    body = _lines(fig, 0.08, 0.62, ["The office will be closed from", "24 December to 1 January.",
                                    "Please take your plants home", "and switch off your monitors.",
                                    "The heating stays at 12 °C", "while the building is empty."], 0.065, size=9)
    return {"closed": body[1], "from": head[1]}


def draw_invoice_page(fig):
    _heading(fig, "INVOICE  no. 2024-117", y=0.93, size=11)
    _lines(fig, 0.08, 0.85, ["Blue Harbour Design Ltd", "to: Northwind Coffee"], 0.05, size=8)
    rows = [["Logo design", "1", "600.00"], ["Menu layout", "2", "220.00"], ["Printing", "1", "200.00"]]
    _table(fig, (0.08, 0.38, 0.84, 0.32), ["item", "qty", "EUR"], rows, size=8)
    total = fig.text(0.92, 0.28, "Total due: EUR 1,240.00", fontsize=10, weight="bold", ha="right", color=_INK)
    due = fig.text(0.92, 0.2, "Payable by 31 January 2025", fontsize=8, ha="right", color=_INK)
    return {"total": total, "due": due}


def draw_festival_poster(fig):
    fig.patch.set_facecolor("#fff3e0")
    title = fig.text(0.5, 0.8, "HARBOUR\nJAZZ\nFESTIVAL", fontsize=22, weight="bold", ha="center", va="center",
                     color="#bf360c", linespacing=1.1)
    dates = fig.text(0.5, 0.45, "12 - 14 July", fontsize=16, ha="center", color=_INK)
    place = fig.text(0.5, 0.33, "Old Pier Stage, Northport", fontsize=10, ha="center", color=_INK)
    price = fig.text(0.5, 0.15, "tickets from EUR 35", fontsize=9, ha="center", color="#52606d")
    return {"dates": dates, "venue": place, "title": title, "price": price}


def draw_contents_slide(fig):
    _slide(fig, "Contents", colour="#455a64")
    items = _lines(fig, 0.08, 0.7, ["1  Results of the year ........ 3", "2  Our cafes ...................... 7",
                                    "3  Suppliers ....................... 11", "4  Outlook 2025 ................. 15"],
                   0.15, size=11, family="DejaVu Sans Mono")
    return {"suppliers": items[2], "outlook": items[3]}
