"""Data: malformed CSVs are reported by line; computed views follow the rows; charts."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from briefgen.charts import allies_at_threshold, to_svg
from briefgen.cli import main
from briefgen.merge import merge
from briefgen.redact import public_only, redact
from briefgen.render_html import render_book, render_factsheet
from briefgen.validate import validate_meeting

from .conftest import ALPHA_YAML, BETA_YAML, INCIDENTS_CSV, MEETING_YAML, REFERENCE, SPENDING_CSV, finishes, write_meeting


def errors(meeting, *options) -> list[str]:
    result = CliRunner().invoke(main, ["check", *options, str(meeting)])
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if not line.startswith("briefgen:")]


# --- malformed CSVs ----------------------------------------------------------

@pytest.mark.parametrize("name, broken, line, message", [
    ("spending", SPENDING_CSV.replace(",usd_million,", ","), 1, "missing column(s): usd_million"),
    ("spending", SPENDING_CSV.replace("Greece,GRC,2014,2.20", "Greece,GRC,2014,two"), 6,
     "pct_gdp: input should be a valid decimal, found 'two'"),
    ("spending", SPENDING_CSV.replace("Greece,GRC,2014", "Greece,GRC,20x4"), 6,
     "year: input should be a valid integer, unable to parse string as an integer, found '20x4'"),
    ("spending", SPENDING_CSV.replace("Greece,GRC,2014", "Greece,GRX,2014"), 6,
     "iso3: unknown ISO 3166 alpha-3 code 'GRX'"),
    ("spending", SPENDING_CSV.replace("Greece,GRC,2014", "Greece,POL,2014"), 6,
     "country: 'Greece' is GRC, not POL (Poland)"),
    ("spending", SPENDING_CSV + "Poland,POL,2014,1.90,false,,Test source A\n", 8,
     "duplicate row ('POL', 2014) (first on line 4)"),
    ("spending", SPENDING_CSV.replace("2.85,true", "2.85,maybe"), 7,
     "estimate: input should be a valid boolean, unable to interpret input, found 'maybe'"),
    ("incidents", INCIDENTS_CSV.replace("T-2,2025-09-19", "T-2,2025-09-31"), 3,
     "date: input should be a valid date or datetime, day value is outside expected range, found '2025-09-31'"),
    ("incidents", INCIDENTS_CSV.replace("T-2,2025-09-19,Estonia", "T-2,2025-09-19,Atlantis"), 3,
     "country: unknown country 'Atlantis' (use a country name, an ISO 3166 alpha-3 code or one of "
     "NATO, EU, UN, OSCE)"),
    ("incidents", INCIDENTS_CSV.replace("T-3,", "T-1,"), 4, "duplicate row 'T-1' (first on line 2)"),
    ("incidents", INCIDENTS_CSV.replace("drone,19,420", "drone,many,420"), 2,
     "count: input should be a valid integer, unable to parse string as an integer, found 'many'"),
    ("incidents", INCIDENTS_CSV.replace("drone,19,420", "drone," + "9" * 4400 + ",420"), 2,  # quoted cut short
     "count: unable to parse input string as an integer, exceeded maximum size, found '" + "9" * 56 + "..."),
    ("incidents", INCIDENTS_CSV.replace("T-2,2025-09-19", "T-2,1759276800"), 3,
     "date: write the date as YYYY-MM-DD, found '1759276800'"),
    ("incidents", INCIDENTS_CSV.replace("T-2,2025-09-19", "T-2,0025-09-19"), 3,
     "date: the year must be between 1949 and 2100, found '0025-09-19'"),
    ("incidents", INCIDENTS_CSV.replace('"Drones over Poland."', '"Drones\u2028over Poland."').replace(
        "fixed-wing,3", "fixed-wing,three"), 3,
     "count: input should be a valid integer, unable to parse string as an integer, found 'three'"),
    ("spending", SPENDING_CSV.replace("Greece,GRC,2014", "Ukraine,UKR,2014"), 6,
     "iso3: Ukraine (UKR) is not an ally, and every count of allies would include it (allies: in "
     "briefgen.yaml lists the countries the spending data may hold; the default is NATO's members)"),
    ("spending", SPENDING_CSV.replace("Greece,GRC,2014", "Narnia,GRC,2014"), 6,
     "country: 'Narnia' is not a country name briefgen knows (GRC is Greece)"),
])
def test_malformed_csv_is_reported_by_line(tmp_path, name, broken, line, message):
    meeting = write_meeting(tmp_path, **{name: broken})
    assert errors(meeting) == [f"{meeting / 'data' / f'{name}.csv'}:{line}: {message}"]


def with_column(csv: str, header: str, first_value: str) -> str:
    """``csv`` with one more column, set on the first row and blank on the others."""
    lines = csv.splitlines()
    return "\n".join([lines[0] + "," + header, lines[1] + "," + first_value]
                     + [line + "," for line in lines[2:]]) + "\n"


@pytest.mark.parametrize("header, value, message", [
    ("level", "NATO RESTRICTED", "2: column 'level' holds classifications ('NATO RESTRICTED'), but only a "
     "column named 'classification' marks a row: rename it, or every row is taken for public"),
    ("marking", "NR", "2: column 'marking' holds classifications ('NR'), but only a column named "
     "'classification' marks a row: rename it, or every row is taken for public"),
    ("clasification", "", "1: unknown column 'clasification' (did you mean 'classification'?)"),
    ("notes", "see the annex", "1: warning: column 'notes' is not used by briefgen; ignored"),
    # its heading deleted: the rows it marks were taken for public, silently
    ("", "NATO RESTRICTED", "2: column 11 (no name in the header) holds classifications ('NATO RESTRICTED'), "
     "but only a column named 'classification' marks a row: rename it, or every row is taken for public"),
    ("", "see the annex", "1: warning: column 11 (no name in the header) is not used by briefgen; ignored"),
    ("", "", None),  # a header ending in a comma, as spreadsheets write one
])
def test_a_column_briefgen_does_not_read_is_reported(tmp_path, header, value, message):
    meeting = write_meeting(tmp_path, incidents=with_column(INCIDENTS_CSV, header, value))
    assert errors(meeting) == ([f"{meeting / 'data' / 'incidents.csv'}:{message}"] if message else [])


def test_column_names_are_read_whatever_their_case_and_a_restricted_row_stays_out_of_fact_sheets(tmp_path):
    meeting = write_meeting(tmp_path, incidents=with_column(INCIDENTS_CSV, " Classification ", "NATO RESTRICTED"))
    assert errors(meeting) == []
    valid = validate_meeting(meeting)
    assert [row.level.name for row in valid.datasets["incidents"].rows] == ["NATO RESTRICTED", "PUBLIC", "PUBLIC"]
    public = merge(redact(valid, public_only))
    sheet = render_factsheet(public, 0, "PUBLIC")
    assert "Jets over Estonia" in sheet and "Drones over Poland" not in sheet


def test_a_spending_view_without_rows_shows_no_empty_source_or_table(tmp_path):
    """A fact sheet whose spending figures are all restricted said "Source: . Data as of no
    data."; so did a book over a spending file of no rows, under a table of no allies."""
    lines = SPENDING_CSV.splitlines()
    restricted = "\n".join([lines[0] + ",classification", *(line + ",NATO RESTRICTED" for line in lines[1:])]) + "\n"
    valid = validate_meeting(write_meeting(tmp_path / "restricted", spending=restricted))
    sheet = re.sub(r"<[^>]+>", "", render_factsheet(merge(redact(valid, public_only)), 1, "PUBLIC"))
    assert "Defence spending in figures" in sheet and "Source:" not in sheet and "no data" not in sheet
    valid = validate_meeting(write_meeting(tmp_path / "empty", spending=lines[0] + "\n"))
    book = re.sub(r"<[^>]+>", "", render_book(merge(valid)))
    assert "no ally has a published figure" in book
    assert "Source: ." not in book and "Defence expenditure as % of GDP" not in book


def test_a_spending_view_without_years_or_rows_shows_no_year_0(tmp_path):
    """A view naming no years shows the data's latest; with no figure to show (all of them
    restricted, on a fact sheet) its table gave a row for the year 0, and the book said
    '0: no ally has a published figure' and 'No figures for 0.'"""
    lines = SPENDING_CSV.splitlines()
    restricted = "\n".join([lines[0] + ",classification", *(line + ",NATO RESTRICTED" for line in lines[1:])]) + "\n"
    beta = BETA_YAML.replace("years: [2014, 2025], ", "")
    valid = validate_meeting(write_meeting(tmp_path / "restricted", spending=restricted, beta=beta))
    sheet = re.sub(r"<[^>]+>", " ", render_factsheet(merge(redact(valid, public_only)), 1, "PUBLIC"))
    figures = sheet.split("Defence spending in figures")[1]
    assert "No ally has a published figure." in figures and not re.search(r"\b0\b", figures)
    book = re.sub(r"<[^>]+>", " ", render_book(merge(validate_meeting(write_meeting(tmp_path / "empty",
                                                                                spending=lines[0] + "\n", beta=beta)))))
    assert "No ally has a published figure." in book and "0: no ally" not in book and "for 0" not in book


def test_a_column_named_twice_is_an_error(tmp_path):
    csv = with_column(with_column(INCIDENTS_CSV, "classification", "PUBLIC"), "CLASSIFICATION", "NATO RESTRICTED")
    meeting = write_meeting(tmp_path, incidents=csv)
    assert errors(meeting) == [f"{meeting / 'data' / 'incidents.csv'}:1: column(s) named twice: classification"]


def test_an_organisation_may_stand_in_the_country_column(tmp_path):
    csv = INCIDENTS_CSV + 'T-4,2025-09-12,NATO (eastern flank),nato_response,,,posture_change,,"Sentry.",Src\n'
    assert errors(write_meeting(tmp_path, incidents=csv)) == []


def test_data_paths_resolve_against_meeting_yaml_not_the_working_directory(tmp_path, monkeypatch):
    meeting = write_meeting(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert errors(meeting) == []


def test_a_spending_view_needs_a_threshold(tmp_path):
    meeting = write_meeting(tmp_path, beta=BETA_YAML.replace("thresholds: [2.0, 3.5]", "thresholds: []"))
    assert errors(meeting) == [f"{meeting / 'beta.yaml'}:5: data.spending.thresholds: the list is empty; "
                               "give at least 1"]


def test_a_year_without_figures_is_a_warning(tmp_path):
    meeting = write_meeting(tmp_path, beta=BETA_YAML.replace("years: [2014, 2025]", "years: [2014, 2030]"))
    assert errors(meeting) == [f"{meeting / 'beta.yaml'}:5: warning: data.spending.years: no figures for 2030 "
                               "in spending.csv"]


def test_a_date_years_after_the_meeting_is_a_warning_not_fresh_data(tmp_path):
    meeting = write_meeting(tmp_path, incidents=INCIDENTS_CSV.replace("T-3,2025-08-01", "T-3,2052-08-01"))
    assert errors(meeting) == [f"{meeting / 'data' / 'incidents.csv'}:4: warning: dated 2052-08-01, more than a "
                               "year after the meeting: is the date right?"]


def test_one_country_or_type_spelt_two_ways_is_counted_once(tmp_path):
    csv = INCIDENTS_CSV + "T-4,2025-09-20,POL,Drone,2,,none,true,Again.,Src\n"
    view = incidents_of(merge(validate_meeting(write_meeting(tmp_path, incidents=csv))))
    assert view.by_country == [("Poland", 2), ("Estonia", 1)]
    assert view.by_type == [("drone", 2), ("fixed-wing", 1)]
    assert "requested by Poland and Estonia." in view.statement


def test_a_country_written_as_a_code_first_is_named_and_each_row_shows_the_counted_spelling(tmp_path):
    """'POL' on the first row, 'Poland' later: statements, counts and the table say Poland;
    a type spelt two ways is shown one way on every row."""
    csv = INCIDENTS_CSV.replace("T-1,2025-09-10,Poland,drone", "T-1,2025-09-10,POL,Drone")
    csv += "T-4,2025-09-20,Poland,drone,2,,none,false,Again.,Src\n"
    meeting = write_meeting(tmp_path, incidents=csv)
    view = incidents_of(merge(validate_meeting(meeting)))
    assert view.by_country == [("Poland", 2), ("Estonia", 1)] and view.by_type[0] == ("Drone", 2)
    assert "requested by Poland and Estonia." in view.statement
    html = render_book(merge(validate_meeting(meeting)))
    cells = re.findall(r'<tr class="incident"[^>]*><td[^>]*>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>', html)
    assert cells == [("Poland", "Drone"), ("Estonia", "fixed-wing"), ("Poland", "Drone")]


def test_a_figure_is_rounded_once_so_what_is_shown_is_what_is_counted(tmp_path):
    csv = SPENDING_CSV.replace("Greece,GRC,2025,2.85", "Greece,GRC,2025,1.995")
    view = spending_of(merge(validate_meeting(write_meeting(tmp_path, spending=csv))))
    assert dict(view.rows)["Greece"] == ["2.20", "2.00"]
    assert view.counts[1].statement.startswith("2025 (NATO estimate): 3 of 3 allies with a published figure at "
                                               "or above 2% of GDP")


def test_an_ally_named_two_ways_is_one_row(tmp_path):
    csv = SPENDING_CSV.replace("Greece,GRC,2014", "Hellenic Republic,GRC,2014")
    view = spending_of(merge(validate_meeting(write_meeting(tmp_path, spending=csv))))
    assert [ally for ally, _ in view.rows] == ["Estonia", "Greece", "Poland"]
    assert dict(view.rows)["Greece"] == ["2.20", "2.85"]


# --- freshness ------------------------------------------------------------------

def test_stale_data_warns_and_fails_under_strict(tmp_path):
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace("2025-10-15", "2025-12-01"))
    expected = (f"{meeting / 'data' / 'incidents.csv'}: warning: data set 'incidents' is 73 days old at the "
                "meeting (latest row 2025-09-19; the limit is 30 days, which freshness: in briefgen.yaml can change)")
    assert errors(meeting) == [expected]
    result = CliRunner().invoke(main, ["check", "--strict", str(meeting)])
    assert result.exit_code == 1
    assert expected.replace(": warning:", ":") in result.stderr


def test_freshness_limit_comes_from_the_project_config(tmp_path):
    (tmp_path / "briefgen.yaml").write_text("freshness:\n  incidents: 100\n", encoding="utf-8")
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace("2025-10-15", "2025-12-01"))
    assert errors(meeting, "--strict") == []


def test_a_misspelt_or_unknown_setting_is_told_and_a_negative_limit_refused(tmp_path):
    """The settings' warnings were dropped: 'incidnts: 100' left the limit at 30, unsaid."""
    config = tmp_path / "briefgen.yaml"
    config.write_text("freshness:\n  incidnts: 100\ncolour: blue\n", encoding="utf-8")
    meeting = write_meeting(tmp_path)
    assert errors(meeting) == [f"{config}:2: warning: unknown key 'incidnts'; did you mean 'incidents'?",
                               f"{config}:3: warning: unknown key 'colour'"]
    assert len(errors(meeting, "--strict")) == 2
    config.write_text("freshness:\n  spending: -5\n", encoding="utf-8")
    assert errors(meeting) == [f"{config}:2: freshness.spending: input should be greater than or equal to 0, found -5"]


def test_allies_come_from_the_project_config(tmp_path):
    (tmp_path / "briefgen.yaml").write_text("allies: [EST, POL]\n", encoding="utf-8")
    meeting = write_meeting(tmp_path)
    assert errors(meeting) == [f"{meeting / 'data' / 'spending.csv'}:{line}: iso3: Greece (GRC) is not an ally, "
                               "and every count of allies would include it (allies: in briefgen.yaml lists the "
                               "countries the spending data may hold; the default is NATO's members)"
                               for line in (6, 7)]
    (tmp_path / "briefgen.yaml").write_text("allies:\n  - EST\n  - POLAND\n", encoding="utf-8")
    assert errors(meeting) == [f"{tmp_path / 'briefgen.yaml'}:3: allies: 'POLAND' is not an ISO 3166 "
                               "alpha-3 country code (POL, DEU, USA, ...)"]
    (tmp_path / "briefgen.yaml").write_text("allies: [est, pol, grc]\n", encoding="utf-8")
    assert errors(meeting) == []  # codes in lower case are the same codes


# --- computed views against hand-checked figures --------------------------------

@pytest.fixture(scope="module")
def reference_view():
    return merge(validate_meeting(REFERENCE))


def spending_of(book):
    return next(view.spending for view in book.items if view.spending)


def incidents_of(book):
    return next(view.incidents for view in book.items if view.incidents)


def test_gap_to_the_core_target(reference_view):
    gaps = {gap.ally: gap for gap in spending_of(reference_view).gaps}
    assert (gaps["Belgium"].gap, gaps["Belgium"].per_year) == ("1.50", "0.15")  # 3.5 - 2.00 over 10 years
    assert (gaps["Poland"].gap, gaps["Poland"].per_year) == ("0.00", "0.00")   # 4.48 is above
    assert "Germany" not in gaps  # no 2025 figure published
    assert spending_of(reference_view).gap_statement.startswith(
        "In 2025, 27 of 30 allies with a published figure were below 3.5% of GDP")


def test_trend_runs_over_every_year(reference_view):
    trend = spending_of(reference_view).trend
    assert [c.year for c in trend] == list(range(2014, 2026))
    assert [c.at_or_above[0] for c in trend][:1] + [c.at_or_above[0] for c in trend][-1:] == [3, 30]


def test_incident_views_of_the_drone_item(reference_view):
    incidents = incidents_of(reference_view)
    assert incidents.statement == ("14 recorded events, 1 September 2025 to 15 October 2025; "
                                   "Article 4 consultations requested by Poland and Estonia.")
    assert dict(incidents.by_country)["Denmark"] == 3
    assert incidents.last_event == "Last event shown: 5 October 2025, 10 days before the meeting."


def test_an_incident_inside_the_window_appears_and_one_outside_does_not(reference_copy):
    csv = reference_copy.parent.parent / "data" / "incidents.csv"
    csv.write_text(csv.read_text(encoding="utf-8") +
                   'TEST-IN,2025-10-10,Estonia,drone,2,,scrambled,false,"Zinside incident.",Test\n'
                   'TEST-OUT,2025-08-20,Estonia,drone,2,,scrambled,false,"Zoutside incident.",Test\n',
                   encoding="utf-8")
    book = merge(validate_meeting(reference_copy))
    incidents = incidents_of(book)
    assert incidents.statement.startswith("15 recorded events")
    assert dict(incidents.by_country)["Estonia"] == 2
    assert "Estonia 2 events" in incidents.charts[0].alt
    html = render_book(book)
    assert "Zinside incident." in html and "Zoutside incident." not in html


# --- charts -------------------------------------------------------------------

def test_book_has_charts_with_alt_text_and_sources(reference_book):
    html = (reference_book / "book.html").read_text(encoding="utf-8")
    figures = re.findall(r'<figure class="chart".*?</figure>', html, flags=re.S)
    assert len(figures) >= 3
    for figure in figures:
        alt = re.search(r'alt="([^"]*)"', figure).group(1)
        assert len(alt) > 40
        assert "Source:" in figure and "Data as of" in figure
        assert re.search(r'<span class="mark"', figure)


@pytest.mark.parametrize("item", ["spending-targets", "drone-wall"])
def test_fact_sheets_with_public_data_carry_a_chart(reference_book, item):
    html = (reference_book / "factsheets" / f"{item}.html").read_text(encoding="utf-8")
    assert html.count('<figure class="chart"') == 1


def test_charts_are_deterministic():
    def draw():
        return str(to_svg(allies_at_threshold([2014, 2015], [3, 4], [31, 31], [False, True], "2%"), "alt"))
    first, second = draw(), draw()
    assert first == second
    assert "dc:date" not in first


def test_the_editions_state_the_same_numbers(reference_view):
    valid = validate_meeting(REFERENCE)
    public = merge(redact(valid, public_only))
    assert [c.statement for c in spending_of(public).counts] == [c.statement for c in spending_of(reference_view).counts]
    index = next(i for i, view in enumerate(public.items) if view.incidents)
    sheet = render_factsheet(public, index, "PUBLIC")
    assert incidents_of(reference_view).statement in sheet
    assert incidents_of(reference_view).statement in render_book(reference_view)


def test_a_revised_figure_of_an_ally_whose_name_holds_a_bar_is_listed():
    from briefgen.changes import compare

    state = {"items": {}, "incidents": {}, "figures": {"Bosnia|Herzegovina|2025": "1.00"}}
    changes = compare(state, {**state, "figures": {"Bosnia|Herzegovina|2025": "1.50"}})
    assert [{k: f[k] for k in ("ally", "year", "before", "after")} for f in changes.changed_figures] == [
        {"ally": "Bosnia|Herzegovina", "year": 2025, "before": "1.00", "after": "1.50"}]


def test_a_figure_revised_under_a_new_name_and_a_new_incident_are_named_as_the_book_names_them(tmp_path):
    """Figures are keyed by ISO code, so 'Turkey' revised as 'Türkiye' is a revised figure;
    a new incident written 'POL' is listed under 'Poland', as the book's tables list it."""
    from briefgen.changes import compare, marked, snapshot
    from briefgen.jobs import staff_book

    before = validate_meeting(write_meeting(tmp_path / "a", spending=SPENDING_CSV + "Turkey,TUR,2025,2.33,true,,S\n"))
    after = validate_meeting(write_meeting(tmp_path / "b", spending=SPENDING_CSV + "Türkiye,TUR,2025,2.40,true,,S\n",
                                           incidents=INCIDENTS_CSV + "T-9,2025-10-01,POL,Drone,2,,none,false,New.,S\n"))
    changes = marked(compare(snapshot(before, staff_book(before)), snapshot(after, staff_book(after))),
                     after.scheme, after.ceiling)
    assert [(f["ally"], f["year"], f["before"], f["after"], f["mark"]) for f in changes.changed_figures] == [
        ("Türkiye", 2025, "2.33", "2.40", "PUBLIC")]
    assert [(i["id"], i["country"], i["type"]) for i in changes.new_incidents] == [("T-9", "Poland", "drone")]


def test_a_blank_cell_takes_its_column_s_default_or_is_named_empty(tmp_path):
    from briefgen import pipeline

    blank = INCIDENTS_CSV + "T-9,2025-09-11,Poland,drone,1,1,,false,,Test source E\n,2025-09-12,Poland,drone,1,,,,,\n"
    meeting = write_meeting(tmp_path, incidents=blank)
    [result] = pipeline.check([meeting])
    assert [str(p).split("incidents.csv:", 1)[1] for p in result.problems] == [
        "6: id: empty, but this column needs a value", "6: source: empty, but this column needs a value"]
    row = next(r for r in validate_meeting(write_meeting(tmp_path / "ok", incidents=blank.rsplit(",2025-09-12", 1)[0]))
               .datasets["incidents"].rows if r.id == "T-9")
    assert (row.response, row.summary) == ("", "")


def test_the_freshness_warnings_do_not_quote_a_restricted_row_s_date(tmp_path):
    from briefgen import pipeline

    marked = INCIDENTS_CSV.replace("article4,summary,source\n", "article4,summary,source,classification\n")
    old = marked.replace("Test source B\n", "Test source B,\n").replace(
        "Test source C\n", "Test source C,NATO RESTRICTED\n").replace("Test source D\n", "Test source D,\n")
    meeting = write_meeting(tmp_path, incidents=old,
                            meeting=MEETING_YAML.replace("date: 2025-10-15", "date: 2026-10-15"))
    [result] = pipeline.check([meeting])
    assert [p.message for p in result.problems if "days old" in p.message] == [
        "data set 'incidents' is 391 days old at the meeting (latest row [not shown: a NATO RESTRICTED row]; "
        "the limit is 30 days, which freshness: in briefgen.yaml can change)"]
    future = old.replace("2025-09-19", "2027-12-01")
    [result] = pipeline.check([write_meeting(tmp_path / "b", incidents=future)])
    assert [p.message for p in result.problems if "after the meeting" in p.message] == [
        "dated [not shown: a NATO RESTRICTED row], more than a year after the meeting: is the date right?"]


def test_a_country_name_in_a_sentence_takes_the_article_english_gives_it(tmp_path):
    """'Article 4 consultations requested by United Kingdom': in running prose such names
    take "the"; the table's cells keep the bare name."""
    from briefgen.formatting import in_prose

    takes = ["United Kingdom", "United States", "Netherlands", "Slovak Republic", "Czech Republic",
             "Republic of Moldova", "Russian Federation", "United Arab Emirates", "Marshall Islands",
             "Philippines", "UK", "EU", "Netherlands (North Sea)"]
    assert [in_prose(name) for name in takes] == [f"the {name}" for name in takes]
    assert [in_prose(name) for name in ["Poland", "Cyprus", "Czechia", "NATO", "NATO (eastern flank)"]] == [
        "Poland", "Cyprus", "Czechia", "NATO", "NATO (eastern flank)"]
    assert in_prose("United Kingdom", sentence_start=True) == "The United Kingdom"
    assert in_prose("The Netherlands") == "the Netherlands" and in_prose("the Gambia", True) == "The Gambia"
    csv = INCIDENTS_CSV + ("T-4,2025-09-20,GBR,drone,1,,none,true,Over the UK.,Src\n"
                           "T-5,2025-09-21,Netherlands,drone,1,,none,true,Over the Netherlands.,Src\n")
    alpha = ALPHA_YAML.replace("countries: [POL, EST]", "countries: [POL, EST, GBR, NLD]")
    meeting = write_meeting(tmp_path, incidents=csv, alpha=alpha)
    view = incidents_of(merge(validate_meeting(meeting)))
    assert view.statement.endswith("requested by Poland, Estonia, the United Kingdom and the Netherlands.")
    assert ("United Kingdom", 1) in view.by_country  # a count's label: no article


def test_large_whole_numbers_are_written_with_thousands_separators(tmp_path):
    """'24826 days before the meeting' and a count of 1500 read as a year or a code."""
    from briefgen.formatting import plural

    assert plural(24826, "day") == "24,826 days" and plural(1, "day") == "1 day"
    csv = ("id,date,country,type,count,duration_min,response,article4,summary,source\n"
           "T-1,1957-10-04,Poland,drone,1500,,none,false,Long ago.,Src\n")
    alpha = ALPHA_YAML.replace("from: 2025-09-01", "from: 1950-01-01")
    meeting = write_meeting(tmp_path, incidents=csv, alpha=alpha)
    book = merge(validate_meeting(meeting))
    view = incidents_of(book)
    assert view.last_event == "Last event shown: 4 October 1957, 24,848 days before the meeting."
    assert view.count == {"T-1": "1,500"} and view.shown_by_country == [("Poland", "1")]
    html = render_book(book)
    assert '<td class="num">1,500</td>' in html and "24,848 days" in html


def test_an_organisation_is_named_with_or_without_its_qualifier():
    from briefgen.datasets import organisation

    assert [organisation(name) for name in ("NATO", "nato (eastern flank) ", "EU(x)", "NATO (x\n)", "NATO x)", "Poland (x)")] \
        == ["NATO", "NATO", "EU", None, None, None]


def test_a_country_full_of_brackets_is_read_without_hanging():
    """Taking a qualifier off a name tried the rest of the field from each '(': a field of
    50,000 characters took seconds, in C, where no time limit stops it."""
    finishes("from briefgen.datasets import organisation; organisation('(' * 1_000_000); organisation(' ' * 1_000_000 + 'x')")
