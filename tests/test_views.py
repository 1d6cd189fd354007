"""Data views on data unlike the reference's: one day, many years, one ally, renamed
allies, a target year gone by, an empty window."""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings

from click.testing import CliRunner
from pypdf import PdfReader

from briefgen import charts, pipeline
from briefgen.cli import main
from briefgen.jobs import staff_book
from briefgen.render_html import render_book
from briefgen.validate import validate_meeting

from .conftest import ALPHA_YAML, BETA_YAML, INCIDENTS_CSV, MEETING_YAML, SPENDING_CSV, write_meeting


def tick_labels(figure) -> list[str]:
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(figure)
    figure.draw_without_rendering()
    return [label.get_text() for label in figure.axes[0].get_xticklabels()]


def test_a_timeline_spans_its_window_and_names_the_year_when_the_window_crosses_one():
    day = dt.date(2026, 3, 1)
    one_day = charts.incidents_over_time(["Poland"], [("Poland", day, 3)], (day, day))
    labels = tick_labels(one_day)
    assert len(labels) == len(set(labels)) >= 2 and "01 Mar" in labels  # days, each once: no hours
    window = (dt.date(2025, 9, 1), dt.date(2025, 10, 15))
    september = charts.incidents_over_time(["Poland"], [("Poland", dt.date(2025, 9, 10), 1)], window)
    low, high = september.axes[0].get_xlim()
    import matplotlib.dates

    assert matplotlib.dates.num2date(low).date() < window[0] and matplotlib.dates.num2date(high).date() > window[1]
    years = charts.incidents_over_time(["Poland"], [("Poland", dt.date(2023, 5, 1), 1), ("Poland", dt.date(2026, 2, 1), 1)],
                                       (dt.date(2023, 5, 1), dt.date(2026, 2, 1)))
    assert all(label[-4:].isdigit() for label in tick_labels(years))  # "01 Jan 2024", never a bare "01 Jan"


def test_timeline_ticks_never_crowd_a_month_s_first_day_and_years_go_below_the_day():
    """matplotlib steps days from each month's 1st: '31 Dec' fell a day before '01 Jan' (and
    '29 Mar' three days before '01 Apr' in weekly steps), and their labels overlapped."""
    import matplotlib.dates

    for first, last in [(dt.date(2025, 12, 28), dt.date(2026, 1, 4)), (dt.date(2025, 3, 1), dt.date(2025, 4, 8))]:
        figure = charts.incidents_over_time(["Poland"], [("Poland", first, 1)], (first, last))
        labels = tick_labels(figure)
        ticks = matplotlib.dates.num2date(figure.axes[0].get_xticks())
        gaps = [(after - before).days for before, after in zip(ticks, ticks[1:])]
        assert min(gaps) >= 0.75 * sorted(gaps)[len(gaps) // 2], (labels, gaps)
    assert labels == ["01 Mar", "08 Mar", "15 Mar", "22 Mar", "01 Apr", "08 Apr"]  # not "29 Mar", "01 Apr"
    crossing = charts.incidents_over_time(["Poland"], [("Poland", dt.date(2025, 12, 29), 1)],
                                          (dt.date(2025, 12, 29), dt.date(2026, 1, 3)))
    assert tick_labels(crossing)[:2] == ["28 Dec\n2025", "29 Dec\n2025"]  # a label as wide as "28 Dec"
    whole_year = charts.incidents_over_time(["Poland"], [("Poland", dt.date(2025, 6, 1), 1)],
                                            (dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
    assert tick_labels(whole_year)[-1] == "01 Jan\n2026"  # the margin reaches 2026: not "01 Jan" twice


LONG_NAME = "United Kingdom of Great Britain and Northern Ireland"


def test_a_long_country_name_leaves_a_chart_its_width_and_its_rows_apart():
    """On one line, a long name took half of a timeline's or a bar chart's width: its dots
    and bars were drawn in what was left."""
    day = dt.date(2025, 9, 10)
    names = ["Poland", LONG_NAME, "Bosnia and Herzegovina and more", "Estonia"]
    for figure in (charts.incidents_over_time(names, [(LONG_NAME, day, 3)], (day, day)),
                   charts.latest_by_ally(names, [4.48, 2.3, 1.5, 3.38], "2025e", [(2.0, "2%")])):
        tick_labels(figure)  # laid out
        axes = figure.axes[0]
        assert axes.get_position().width > 2 / 3  # a short name leaves it nine tenths
        boxes = sorted((label.get_window_extent() for label in axes.get_yticklabels()), key=lambda box: box.y0)
        assert len(boxes) == len(names) and boxes[0].y0 >= 0 and all(box.x0 >= 0 for box in boxes)
        assert all(below.y1 <= above.y0 for below, above in zip(boxes, boxes[1:]))  # no label over another


def test_one_ally_gets_a_chart_with_its_axes_and_threshold_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when the axes collapse to nothing
        svg = charts.svg_data(charts.latest_by_ally(["Poland"], [4.48], "2025e", [(2.0, "2%")]))
    import base64

    text = base64.b64decode(svg).decode("utf-8")
    assert "% of GDP, 2025e" in text and " 2%" in text


ONE_ALLY = "country,iso3,year,pct_gdp,estimate,usd_million,source\nPoland,POL,2025,4.48,true,,S\n"


def spending_view(tmp_path, spending: str, beta: str = BETA_YAML):
    meeting = write_meeting(tmp_path, spending=spending, beta=beta)
    book = staff_book(validate_meeting(meeting))
    return next(view.spending for view in book.items if view.spending)


def test_an_ally_renamed_over_the_years_is_named_as_in_its_latest_figure_everywhere(tmp_path):
    renamed = SPENDING_CSV + "Turkey,TUR,2014,2.20,false,,S\nTürkiye,TUR,2025,2.09,true,,S\n"
    view = spending_view(tmp_path, renamed)
    assert "Türkiye" in [ally for ally, _ in view.rows] and "Türkiye" in [gap.ally for gap in view.gaps]
    names = [ally for chart in view.charts if chart.svg.kind == "latest_by_ally" for ally in chart.svg.args[0]]
    assert "Türkiye" in names and "Turkey" not in names + [gap.ally for gap in view.gaps]
    assert "Turkey" not in view.charts[1].alt and view.gap_year == "2025e"


def test_the_gap_statement_fits_none_one_or_all_allies_below_the_target(tmp_path):
    one_ally_view = "  spending: {thresholds: [2.0]}\n"
    beta = BETA_YAML.replace("  spending: {years: [2014, 2025], thresholds: [2.0, 3.5]}\n", one_ally_view)
    above = spending_view(tmp_path / "a", ONE_ALLY, beta)
    assert above.gap_statement == "In 2025, the one ally with a published figure was at or above 3.5% of GDP."
    assert above.gaps == []  # no table of 0.00s under that statement
    lower = ONE_ALLY.replace("4.48", "2.00") + "Greece,GRC,2025,3.85,true,,S\n"
    assert spending_view(tmp_path / "b", lower, beta).gap_statement == (
        "In 2025, 1 of 2 allies with a published figure was below 3.5% of GDP; "
        "to reach it by 2035 it needs to add 0.15 percentage points a year.")
    assert spending_view(tmp_path / "c", SPENDING_CSV).gap_statement == (
        "In 2025, 2 of 3 allies with a published figure were below 3.5% of GDP; "
        "to reach it by 2035 they need to add between 0.02 and 0.07 percentage points a year.")  # 0.012 up
    alone = ONE_ALLY.replace("4.48", "3.20")
    assert spending_view(tmp_path / "d", alone, beta).gap_statement == (
        "In 2025, the one ally with a published figure was below 3.5% of GDP; "  # not '1 of 1 allies'
        "to reach it by 2035 it needs to add 0.03 percentage points a year.")


def test_the_rise_needed_a_year_is_rounded_up_so_that_it_reaches_the_target(tmp_path):
    """0.04 short over ten years is 0.004 a year: half up that read 0.00, for an ally
    below the target; 0.12 short read 0.01, which ten times over falls 0.02 short."""
    short = ONE_ALLY + "Latvia,LVA,2025,3.46,true,,S\nEstonia,EST,2025,3.38,true,,S\nNorway,NOR,2025,3.35,true,,S\n"
    gaps = {gap.ally: (gap.gap, gap.per_year) for gap in spending_view(tmp_path, short).gaps}
    assert gaps == {"Latvia": ("0.04", "0.01"), "Estonia": ("0.12", "0.02"), "Norway": ("0.15", "0.02"),
                    "Poland": ("0.00", "0.00")}


def test_an_ally_just_below_the_target_needs_a_yearly_rise_that_reaches_it_never_0_00(tmp_path):
    close = ONE_ALLY.replace("4.48", "3.46") + "Greece,GRC,2025,3.49,true,,S\n"
    beta = BETA_YAML.replace("  spending: {years: [2014, 2025], thresholds: [2.0, 3.5]}\n", "  spending: {thresholds: [2.0]}\n")
    view = spending_view(tmp_path, close, beta)
    assert [(gap.ally, gap.gap, gap.per_year) for gap in view.gaps] == [
        ("Poland", "0.04", "0.01"), ("Greece", "0.01", "0.01")]  # 0.004 and 0.001 a year: at least 0.01
    assert view.gap_statement.endswith("they need to add 0.01 percentage points a year.")


def test_a_target_year_already_reached_is_an_error_at_its_line(tmp_path):
    beta = BETA_YAML.replace("thresholds: [2.0, 3.5]}", "thresholds: [2.0, 3.5],\n             target_year: 2025}")
    meeting = write_meeting(tmp_path, beta=beta)
    [result] = pipeline.check([meeting])
    line = beta.splitlines().index("             target_year: 2025}") + 1
    assert [str(p) for p in result.problems] == [
        f"{meeting / 'beta.yaml'}:{line}: data.spending.target_year: 2025 is not after 2025, the year the gaps "
        "to the target are measured in, so no yearly rise can reach it"]


def test_a_year_or_threshold_listed_twice_is_an_error_at_its_line(tmp_path):
    """Listed twice, each printed its column, row and statement twice."""
    beta = BETA_YAML.replace("{years: [2014, 2025], thresholds: [2.0, 3.5]}",
                             "{years: [2014, 2025, 2014], thresholds: [2.0, 3.5, 2.00]}")
    meeting = write_meeting(tmp_path, beta=beta)
    [result] = pipeline.check([meeting])
    line = next(number for number, text in enumerate(beta.splitlines(), 1) if "2.00]" in text)
    assert [str(p) for p in result.problems] == [
        f"{meeting / 'beta.yaml'}:{line}: data.spending.years: 2014 is listed twice",
        f"{meeting / 'beta.yaml'}:{line}: data.spending.thresholds: 2% is listed twice"]


def test_an_event_on_the_meeting_day_is_said_to_be_on_it():
    from briefgen.incidents import last_event_statement
    from briefgen.model import IncidentRow

    row = IncidentRow(id="X", date="2025-10-15", country="Poland", type="drone", source="S")
    assert last_event_statement([row], dt.date(2025, 10, 15)) == (
        "Last event shown: 15 October 2025, the day of the meeting.")  # not '0 days before'
    assert last_event_statement([row], dt.date(2025, 10, 16)).endswith("1 day before the meeting.")


def test_incident_data_is_as_of_its_latest_row_or_the_window_s_end_not_the_last_event_shown(tmp_path):
    """The reference book said 'Data as of 5 October' for a window to 15 October, while
    its annex gave the same data's latest date as 30 October."""
    later = INCIDENTS_CSV + "T-4,2025-10-05,Denmark,drone,1,,none,false,Elsewhere.,S\n"

    def as_of(alpha):
        book = staff_book(validate_meeting(write_meeting(tmp_path / str(len(alpha)), incidents=later, alpha=alpha)))
        view = next(view.incidents for view in book.items if view.incidents)
        return view.rows[-1].date.isoformat(), view.data_as_of

    assert as_of(ALPHA_YAML) == ("2025-09-19", "5 October 2025")
    assert as_of(ALPHA_YAML.replace("{from: 2025-09-01,", "{from: 2025-09-01, to: 2025-09-30,")) == (
        "2025-09-19", "30 September 2025")


def test_an_empty_incident_window_says_so_without_empty_tables(tmp_path):
    alpha = ALPHA_YAML.replace("{from: 2025-09-01, countries: [POL, EST]}", "{from: 2025-10-01}")
    meeting = write_meeting(tmp_path, alpha=alpha)
    html = render_book(staff_book(validate_meeting(meeting)))
    section = html.split('id="item-alpha/incidents"')[1].split("</section>")[0]
    assert "No recorded events, since 1 October 2025." in section and "0 recorded events" not in section
    assert "No events recorded in this window" not in section  # said once, not twice
    assert "Data as of" not in section and "<table" not in section
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("factsheets",), jobs_count=1)
    sheet = (tmp_path / "out" / "tiny" / "factsheets" / "alpha.html").read_text(encoding="utf-8")
    assert result.ok and "No recorded events, since 1 October 2025." in sheet and "Data as of" not in sheet


def test_a_one_day_window_on_the_meeting_day_is_named_once_and_the_day_is_the_meeting_s(tmp_path):
    incidents = INCIDENTS_CSV + 'T-4,2025-10-15,Poland,drone,1,,none,false,"On the day.",Test source E\n'
    alpha = ALPHA_YAML.replace("{from: 2025-09-01, countries: [POL, EST]}", "{from: 2025-10-15, to: 2025-10-15}")
    meeting = write_meeting(tmp_path, alpha=alpha, incidents=incidents)
    view = next(view.incidents for view in staff_book(validate_meeting(meeting)).items if view.incidents)
    assert view.statement == "1 recorded event, 15 October 2025."  # not "15 October 2025 to 15 October 2025"
    assert view.last_event == "Last event shown: 15 October 2025, the day of the meeting."  # not "0 days before"
    assert view.charts[0].caption == "Events by country over time, 15 October 2025"


def test_a_library_warning_is_a_json_event_under_the_json_log(tmp_path, monkeypatch):
    drawn = charts.svg_data

    def remarked(figure):
        warnings.warn("a remark from the chart library", UserWarning)
        return drawn(figure)

    monkeypatch.setattr(charts, "svg_data", remarked)
    monkeypatch.setattr(charts, "_drawn", {})  # charts other tests drew are not drawn again
    meeting = write_meeting(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(tmp_path / "out"),
                                           "--log-format", "json", "--jobs", "1"])
    events = [json.loads(line) for line in result.stderr.splitlines()]  # every line is JSON
    assert result.exit_code == 0
    assert any("a remark from the chart library" in event["message"] for event in events
               if event.get("level") == "warning")


def test_a_person_without_a_role_or_country_has_no_stray_comma_or_empty_line(tmp_path):
    people = ("people:\n  - {name: Ann Example, country: Testland, classification: PUBLIC}\n"
              "  - {name: Bo Example, role: Minister, classification: PUBLIC}\n"
              "  - {name: Cy Example, classification: PUBLIC}\n")
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace(
        "people:\n  - {name: Ann Example, role: Minister, country: Testland, bio: Has a bio., classification: PUBLIC}\n",
        people))
    html = render_book(staff_book(validate_meeting(meeting)))
    assert re.findall(r'<p class="role">([^<]*)</p>', html) == ["Testland", "Minister"]


def test_a_year_without_figures_and_a_year_with_one_ally_read_as_english(tmp_path):
    beta = BETA_YAML.replace("years: [2014, 2025]", "years: [2019, 2025]")
    view = spending_view(tmp_path, ONE_ALLY, beta)
    assert [count.statement for count in view.counts] == [
        "2019: no ally has a published figure.",  # not '0 of 0 allies'
        "2025 (NATO estimate): 1 of 1 ally with a published figure at or above 2% of GDP; 1 at or above 3.5%."]
    html = render_book(staff_book(validate_meeting(tmp_path / "tiny")))
    medians = re.findall(r'<td class="num">([^<]*)</td></tr>', html.split('id="item-beta/spending"')[1].split("</table>")[0])
    assert medians == ["–", "4.48%"]  # no '–%'


def test_a_last_year_without_figures_draws_no_empty_chart_and_no_empty_gap_table(tmp_path):
    """The by-ally chart of a year no ally has a figure for had no bars, and made-up axes
    ('-0.05', '0.05'); the gap table had its header only."""
    beta = BETA_YAML.replace("years: [2014, 2025]", "years: [2025, 2026]")
    view = spending_view(tmp_path, ONE_ALLY, beta)
    assert [chart.svg.kind for chart in view.charts] == ["allies_at_threshold"]
    assert view.gap_statement == "No figures for 2026." and view.gaps == []
    assert 'class="gaps"' not in render_book(staff_book(validate_meeting(tmp_path / "tiny")))


def test_an_estimate_in_a_year_of_final_figures_is_marked_on_its_figure_not_the_year(tmp_path):
    """NATO marks whole years; a data set may mark one figure. Then that figure says "e",
    and the year's final figures are not called estimates."""
    mixed = (ONE_ALLY + "Poland,POL,2023,1.90,false,,S\nGreece,GRC,2023,2.50,true,,S\n"
             "Greece,GRC,2025,3.00,true,,S\n")
    beta = BETA_YAML.replace("years: [2014, 2025]", "years: [2023, 2025]")
    view = spending_view(tmp_path, mixed, beta)
    assert view.estimates == [False, True] and view.rows == [("Greece", ["2.50e", "3.00"]), ("Poland", ["1.90", "4.48"])]
    assert [count.statement.split(":")[0] for count in view.counts] == ["2023 (partly NATO estimates)",
                                                                       "2025 (NATO estimate)"]
    assert [count.estimate for count in view.counts] == [False, True]
    trend, by_ally = (chart.alt for chart in view.charts)  # the alt text marks them as the tables do
    assert "2023 (partly estimates) 1 of 2, 2025e 2 of 2." in trend and by_ally.endswith("2025e, highest first: Poland 4.48, Greece 3.00.")
    partly = spending_view(tmp_path / "2023", mixed, BETA_YAML.replace("years: [2014, 2025]", "years: [2023]"))
    assert partly.charts[1].alt.endswith(" 2023, highest first: Greece 2.50e, Poland 1.90.")


def pages_of_a_book_with_40_incidents(tmp_path, wrapped: int = 0) -> list[str]:
    """The text of each page (without spaces) of the tiny book with 40 more incidents of four
    types in Poland, the first ``wrapped`` of them with a summary two lines long."""
    kinds = ["drone", "balloon", "fixed-wing", "helicopter"]
    long = "A long summary of what happened that wraps onto a second line of the table in the book and on " * 2
    rows = "".join(f"X-{i},2025-09-{1 + i % 28:02d},Poland,{kinds[i % 4]},1,,none,false,{long if i < wrapped else ''}"
                   f"Row {i}.,S\n" for i in range(40))
    meeting = write_meeting(tmp_path, incidents=INCIDENTS_CSV + rows)
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("book",), jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    return ["".join(page.extract_text().split()) for page in PdfReader(tmp_path / "out" / "tiny" / "book.pdf").pages]


def test_a_short_counts_table_is_not_split_from_its_caption_over_a_page(tmp_path):
    """With these rows the 'Events by type' caption fell at the foot of a page and its
    rows on the next."""
    pages = pages_of_a_book_with_40_incidents(tmp_path)
    caption = [n for n, text in enumerate(pages) if "Eventsbytype" in text]
    last_row = [n for n, text in enumerate(pages) if "helicopter10" in text]
    assert len(caption) == 1 and caption == last_row


CODED_INCIDENTS = """\
id,date,country,type,count,duration_min,response,article4,summary,source
C-1,2025-09-10,LVA,GPS_JAMMING,1,,none,false,Jamming.,S
C-2,2025-09-11,MDA,gps jamming,1,,none,false,Jamming.,S
C-3,2025-09-12,Estonia,Drone_Swarm,2,,none,true,Drones.,S
C-4,2025-09-13,EST,drone_swarm,1,,none,false,Drones.,S
"""


def test_countries_given_by_code_are_named_and_types_read_without_underscores(tmp_path):
    """A data set writing 'LVA' and 'GPS_JAMMING' printed both as written, in the tables,
    the chart and the statements a minister reads."""
    alpha = ALPHA_YAML.replace("countries: [POL, EST]}", "types: [GPS JAMMING, DRONE SWARM]}")
    valid = validate_meeting(write_meeting(tmp_path, incidents=CODED_INCIDENTS, alpha=alpha))
    assert not [str(w) for w in valid.warnings if "types" in str(w)]  # the view's spellings are the data's types
    view = next(view.incidents for view in staff_book(valid).items if view.incidents)
    assert view.by_country == [("Estonia", 2), ("Latvia", 1), ("Moldova", 1)]  # 'MDA': not 'Moldova, Republic of'
    assert view.by_type == [("GPS JAMMING", 2), ("Drone Swarm", 2)]  # one type however it is spelt
    assert view.statement.endswith("Article 4 consultations requested by Estonia.")
    assert "Latvia 1 event" in view.charts[0].alt and "LVA" not in view.charts[0].alt


def test_a_year_without_figures_shows_no_count_of_allies_at_a_threshold(tmp_path):
    """A year the data lacks printed '0 0 0' in the book's and the fact sheet's tables:
    read as 'no ally at 2%', not 'no figures'."""
    from briefgen.jobs import public_factsheets
    from briefgen.render_html import DEFAULT_TEMPLATES

    beta = BETA_YAML.replace("years: [2014, 2025]", "years: [2019, 2025]").replace(
        "purpose:", "key_messages: [{text: Spending rises., classification: PUBLIC}]\npurpose:")
    valid = validate_meeting(write_meeting(tmp_path, spending=ONE_ALLY, beta=beta))
    book = render_book(staff_book(valid)).split('id="item-beta/spending"')[1].split("</table>")[0]
    [sheet] = [html for item, _, _, html, _ in public_factsheets(valid, DEFAULT_TEMPLATES) if item == "beta"]
    for html in (book, sheet.split('class="counts"')[1].split("</table>")[0]):
        rows = [re.findall(r'<td class="num">([^<]*)</td>', row) for row in re.findall(r"<tr>(.*?)</tr>", html)[1:]]
        assert [row[:3] for row in rows] == [["0", "–", "–"], ["1", "1", "1"]]


def test_a_timeline_of_more_than_eight_countries_gives_each_its_own_look():
    """Past the palette's eight colours the ninth country's dots looked like the first's."""
    countries = [f"Country {n}" for n in range(14)]
    events = [(country, dt.date(2026, 1, 1 + n), 1) for n, country in enumerate(countries)]
    figure = charts.incidents_over_time(countries, events, (dt.date(2026, 1, 1), dt.date(2026, 1, 31)))
    looks = {(tuple(dots.get_facecolor()[0]), dots.get_paths()[0].vertices.tobytes())
             for dots in figure.axes[0].collections}
    assert len(figure.axes[0].collections) == len(looks) == 14


def test_the_incidents_section_is_headed_as_the_view_says_and_plainly_without_a_heading(tmp_path):
    """Every section was headed 'Airspace incidents', over cyber attacks or cut cables too."""
    from briefgen.merge import merge
    from briefgen.redact import public_only, redact
    from briefgen.render_html import render_factsheet

    for heading, expected in [("", "Incidents"), ("heading: Cyber incidents, ", "Cyber incidents")]:
        alpha = ALPHA_YAML.replace("{from: 2025-09-01,", "{" + heading + "from: 2025-09-01,")
        valid = validate_meeting(write_meeting(tmp_path / expected, alpha=alpha))
        book = re.sub(r"<[^>]+>", "", render_book(staff_book(valid)))
        sheet = re.sub(r"<[^>]+>", "", render_factsheet(merge(redact(valid, public_only)), 0, "PUBLIC"))
        assert f"{expected}: facts and figures" in book and f"{expected} in figures" in sheet
        assert "Airspace" not in book + sheet


def test_an_open_window_s_timeline_runs_to_the_latest_row_not_the_last_event_shown(tmp_path):
    """'Since 1 September' with the data running to 5 October drew an axis ending on
    19 September, the last event shown: a reader saw no quiet fortnight."""
    incidents = INCIDENTS_CSV + 'T-4,2025-10-05,Denmark,drone,1,,none,false,"Elsewhere.",Test source E\n'
    meeting = write_meeting(tmp_path, incidents=incidents)  # alpha's view: since 1 September, POL and EST
    view = next(view.incidents for view in staff_book(validate_meeting(meeting)).items if view.incidents)
    assert view.charts[0].svg.args[-1] == (dt.date(2025, 9, 1), dt.date(2025, 10, 5))
    assert view.data_as_of == "5 October 2025"


def test_a_partly_estimated_year_is_called_so_on_the_printed_fact_sheet_as_on_the_web(tmp_path):
    """The web fact sheet marked each estimate "2.50e" in its table of allies (web only);
    the printed sheet's table and chart said just "2023", so its estimates read as final."""
    mixed = (ONE_ALLY + "Poland,POL,2023,1.90,false,,S\nGreece,GRC,2023,2.50,true,,S\n"
             "Greece,GRC,2025,3.00,true,,S\n")
    beta = BETA_YAML.replace("years: [2014, 2025]", "years: [2023, 2025]")
    meeting = write_meeting(tmp_path, spending=mixed, beta=beta)
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("factsheets",), jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    sheet = tmp_path / "out" / "tiny" / "factsheets" / "beta"
    html = sheet.with_suffix(".html").read_text(encoding="utf-8")
    printed = " ".join(PdfReader(sheet.with_suffix(".pdf")).pages[0].extract_text().split())
    for text in (html, printed):
        assert "2023 (partly estimates)" in text and "2025 (estimate)" in text  # the table's years
        assert "Allies at or above 2% of GDP, 2023–2025 (2023: partly estimates)" in text  # the chart's caption


def test_an_incidents_source_line_is_not_left_alone_at_the_top_of_a_page(tmp_path):
    """With these rows the 'Events by type' table ended one page and the section's source
    line stood alone at the top of the next."""
    pages = pages_of_a_book_with_40_incidents(tmp_path, wrapped=2)
    source = [n for n, text in enumerate(pages) if "Sources:pressreportsandofficialstatements" in text]
    table = [n for n, text in enumerate(pages) if "Eventsbytype" in text]
    assert len(source) == 1 and source == table


def test_each_spending_statement_in_the_book_carries_its_figures_mark(tmp_path):
    """The statements counted allies at each threshold from rows up to NATO RESTRICTED with
    no mark of their own, where the incidents' statement and the gaps' carried theirs."""
    header, first, *rest = SPENDING_CSV.splitlines()
    rows = [header + ",classification", first + ",NATO RESTRICTED", *(row + "," for row in rest)]
    meeting = write_meeting(tmp_path, spending="\n".join(rows) + "\n")
    html = render_book(staff_book(validate_meeting(meeting)))
    statements = re.search(r'<ul class="statements"[^>]*>(.*?)</ul>', html, re.DOTALL).group(1)
    items = re.findall(r"<li>(.*?)</li>", statements, re.DOTALL)
    assert len(items) == 2  # 2014 and 2025
    assert all(re.match(r'<span class="mark" title="NATO RESTRICTED">.*\(NR\)', item) for item in items), items
