"""The check that a rendered page is inert: it runs nothing and fetches nothing.

Written pages are opened in browsers, which run scripts and fetch what a page names;
WeasyPrint does neither, so only the HTML files are at stake. Briefgen's own pages need
none of it: prose links out with ``<a href>``, images and charts are ``data:`` URLs, CSS
is inline. A user's templates folder runs in Jinja2's sandbox, which keeps it from
briefgen's objects but not from writing markup, so every page is read here after it is
rendered and refused, not cleaned, if it could run or fetch anything: such a template is
a mistake or an attack, and its author should hear which line.

html.parser is quick but does not read every odd construct as a browser does (``<!-->``,
``</style x>``, markup inside ``<title>``, a malformed tag). Those constructs are refused
too, so that what this check read is what a browser will read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import tinycss2

NOT_ALLOWED = "is not allowed in briefgen's HTML"
READ_OTHERWISE = "browsers may read it otherwise than this check does"

# Elements refused wherever they appear, and why. Each runs code, shows another page,
# sends what a reader types, moves every relative URL of the page, or holds content that
# browsers parse by rules of its own (raw text, or SVG's and MathML's foreign content,
# where a <style> holds markup), which this check would then read wrongly.
OWN_RULES = "browsers read what it holds by rules this check does not follow"
REFUSED_ELEMENTS = {
    "script": "it runs code",
    "applet": "it runs code",
    "iframe": "it shows another page in this one",
    "frame": "it shows another page in this one",
    "frameset": "it shows other pages in this one",
    "object": "it embeds a plug-in or another page",
    "embed": "it embeds a plug-in or another page",
    "base": "it sends every relative link and load of the page elsewhere",
    "form": "it sends what a reader types",
    "input": "it sends what a reader types",
    "button": "it sends what a reader types",
    "textarea": "it sends what a reader types",
    "select": "it sends what a reader types",
    "svg": f"{OWN_RULES}; an <img> of a data: URL shows an SVG safely",
    "math": OWN_RULES,
    "noscript": OWN_RULES,
    "noembed": OWN_RULES,
    "noframes": OWN_RULES,
    "xmp": OWN_RULES,
    "plaintext": OWN_RULES,
}
# Elements whose content a browser reads as text up to their end tag, even past a '/>'.
# html.parser does so for <style> only: markup inside a <title> is refused.
RAW_TEXT_ELEMENTS = {"style", "title"}

# Attributes holding a URL that a browser fetches by itself as the page loads (``ping``:
# when a link is followed). Only a relative URL or a data: image keeps the page from
# reaching another machine, or anyone learning who reads it.
FETCHED_URL_ATTRIBUTES = {"src", "srcset", "poster", "data", "background", "ping", "action", "formaction",
                          "xlink:href", "manifest"}
# A link is followed only when a reader chooses to: it may go to the web or to mail, or
# be relative (another file of the output, a place in the page), but run nothing.
LINK_ELEMENTS = {"a", "area"}
FOLLOWED_SCHEMES = {"http", "https", "mailto"}
LINK_RELATIONS = {"stylesheet"}  # <link rel>: a style sheet, and nothing a browser prefetches or opens
FETCH_RULE = "a page must not load anything from elsewhere: use a relative path or a data: image"

URL_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
URL_TRIMMED = "".join(map(chr, range(0x21)))  # what a browser's URL parser trims off both ends
URL_IGNORED = re.compile(r"[\t\n\r]")  # what it removes from anywhere in a URL
FETCHED_DATA = "data:image/"

# A start tag as html.parser and every browser read alike: a plain name, then attributes
# parted by ASCII spaces, each value quoted or plain. Anything else is read otherwise
# by one of them (a value running on past a non-ASCII space, a '/' or a quote in a name).
SPACE = r"[\t\n\f\r ]"
WELL_FORMED_START_TAG = re.compile(rf"""
    <[a-zA-Z][a-zA-Z0-9-]*
    (?: {SPACE}+ [^\s"'<>/=`\x00]+                                      # a name
        (?: {SPACE}*={SPACE}* (?:"[^"]*"|'[^']*'|[^\s"'<>=`\x00]+) )?   # its value
    )*
    {SPACE}*/?>""", re.VERBOSE)
# An end tag that is not '</name>': '</ style>' ends a style sheet for html.parser and
# not for a browser, '</style x>' the other way round.
ODD_END_TAG = re.compile(r"</(?![a-zA-Z][a-zA-Z0-9-]*[\t\n\f\r ]*>)")
# A comment read alike: '<!-->' and '<!--->' end at once in a browser, '--!>' ends it too.
PLAIN_COMMENT = re.compile(r"<!--(?!-?>)(?:[^-]|-(?!-))*-->")
TAG_IN_TEXT = re.compile(r"</?[a-zA-Z]")
# ESC switches a browser that guesses the encoding to ISO-2022-JP, which reads the same
# bytes as other markup.
ENCODING_SWITCH = "\x1b"

# CSS that names no URL-taking function, no @import and no escape cannot fetch anything,
# and is not tokenised (most style attributes, and the book's own style sheet).
CSS_MAY_FETCH = re.compile(r"(?:url|src|image[\w-]*)\(|@import|\\", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """Something a page may not hold; ``clues`` are text to find it by in a template, best first."""

    message: str
    clues: tuple[str, ...]


def active_content(html: str) -> list[Finding]:
    """Everything in ``html`` that would run or fetch in a browser, or that browsers may read
    otherwise than this check; empty for an inert page."""
    findings = ambiguous_text(html)
    reader = PageReader()
    reader.feed(html)
    reader.close()
    return list(dict.fromkeys(findings + reader.findings))


def ambiguous_text(html: str) -> list[Finding]:
    """What html.parser would read otherwise than a browser, found in the text itself."""
    found = []
    if ENCODING_SWITCH in html:
        found.append(Finding(f"an ESC character {NOT_ALLOWED} (it can make a browser read the page in "
                             "another encoding)", ("\x1b",)))
    if "<![" in html:
        found.append(Finding(f"a '<![CDATA[' section {NOT_ALLOWED} ({READ_OTHERWISE})", ("<![",)))
    odd = ODD_END_TAG.search(html)
    if odd:
        tag = first_line(html[odd.start():odd.start() + 20]).split(">")[0] + ">"
        found.append(Finding(f"the end tag {tag!r} {NOT_ALLOWED} ({READ_OTHERWISE}): write '</name>'", (tag,)))
    comment = _odd_comment(html)
    if comment is not None:
        found.append(Finding(f"an HTML comment that starts '<!-->' or holds '--' {NOT_ALLOWED} ({READ_OTHERWISE})",
                             (comment, "<!--")))
    return found


def _odd_comment(html: str) -> str | None:
    start = html.find("<!--")
    while start >= 0:
        plain = PLAIN_COMMENT.match(html, start)
        if plain is None:
            return first_line(html[start:start + 40])
        start = html.find("<!--", plain.end())
    return None


class PageReader(HTMLParser):
    """Reads a page's tags, attributes and style sheets and notes what may not be there."""

    def __init__(self):
        super().__init__(convert_charrefs=False)  # a '<' in text stays a '<', not an escaped '&lt;'
        self.findings: list[Finding] = []
        self.open_raw_text: str | None = None  # 'style' or 'title' while inside one
        self.style_sheet: list[str] = []

    def note(self, message: str, *clues: str) -> None:
        self.findings.append(Finding(message, tuple(clue for clue in clues if clue)))

    def handle_starttag(self, tag, attrs):
        raw = self.get_starttag_text() or ""
        if self.open_raw_text == "title":
            self.note(f"markup inside <title> {NOT_ALLOWED} ({READ_OTHERWISE})", raw, "<title")
        if not WELL_FORMED_START_TAG.fullmatch(raw):
            self.note(f"a malformed <{tag}> tag {NOT_ALLOWED} ({READ_OTHERWISE}): {shown(raw)}", raw, f"<{tag}")
        if tag in REFUSED_ELEMENTS:
            self.note(f"{article(tag)} <{tag}> element {NOT_ALLOWED} ({REFUSED_ELEMENTS[tag]})", raw, f"<{tag}")
        else:
            for message, clue in element_rules(tag, attrs) + attribute_rules(tag, attrs):
                self.note(message, raw, clue)
        if tag in RAW_TEXT_ELEMENTS:
            self.open_raw_text = tag

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in RAW_TEXT_ELEMENTS:
            self.note(f"a self-closed <{tag}/> {NOT_ALLOWED} (browsers read on past the '/>')",
                      self.get_starttag_text() or "", f"<{tag}")
            self.open_raw_text = None  # refused already: what follows need not be reported too
        else:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == self.open_raw_text:
            self.open_raw_text = None
            if tag == "style":
                for message, clue in css_rules("".join(self.style_sheet), "a style sheet"):
                    self.note(message, clue, "url(")
                self.style_sheet = []

    def handle_data(self, data):
        if self.open_raw_text == "style":
            self.style_sheet.append(data)
            return
        tag = TAG_IN_TEXT.search(data)
        if tag:
            text = first_line(data[tag.start():tag.start() + 40])
            self.note(f"a '<' that browsers may read as a tag {NOT_ALLOWED}: {shown(text)}", text)

    def handle_comment(self, data):
        self.note_inside_title(f"<!--{data}")

    def handle_pi(self, data):
        self.note_inside_title(f"<?{data}")

    def handle_decl(self, decl):
        self.note_inside_title(f"<!{decl}")

    def unknown_decl(self, data):
        self.note_inside_title(f"<![{data}")  # a '<![CDATA[' anywhere is refused by ambiguous_text

    def note_inside_title(self, raw: str) -> None:
        if self.open_raw_text == "title":
            self.note(f"markup inside <title> {NOT_ALLOWED} ({READ_OTHERWISE})", first_line(raw[:40]), "<title")

    def close(self):
        super().close()
        if self.open_raw_text:
            self.note(f"a <{self.open_raw_text}> never closed {NOT_ALLOWED} ({READ_OTHERWISE})",
                      f"<{self.open_raw_text}")


def element_rules(tag: str, attrs: list[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """(message, clue) for an element allowed only in some forms: <meta> and <link>."""
    if tag not in ("meta", "link"):
        return []
    values = {name: value or "" for name, value in attrs}
    if tag == "meta" and "http-equiv" in values:
        return [(f"<meta http-equiv> {NOT_ALLOWED} (it can reload or redirect the page)", "http-equiv")]
    if tag == "meta" and values.get("charset", "utf-8").strip().lower() not in ("utf-8", "utf8"):
        return [(f"<meta charset={shown(values['charset'])}> {NOT_ALLOWED} (briefgen writes UTF-8; a page "
                 "read in another encoding is other markup)", "charset")]
    relations = set(values.get("rel", "").lower().split())
    if tag == "link" and not (relations and relations <= LINK_RELATIONS):
        return [(f"<link rel={shown(values.get('rel', ''))}> {NOT_ALLOWED} (only a style sheet may be linked)",
                 "<link")]
    return []


def attribute_rules(tag: str, attrs: list[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """(message, clue) for each attribute that runs code or fetches from elsewhere."""
    found = []
    for name, value in attrs:
        value = value or ""
        if name.startswith("on"):
            found.append((f"the event handler {name}= on <{tag}> {NOT_ALLOWED} (it runs code)", name))
        elif name == "style":
            found += css_rules(value, f"the style of a <{tag}>")
        elif name == "href" and tag in LINK_ELEMENTS:
            if scheme_of(value) not in FOLLOWED_SCHEMES | {None, "//"}:
                found.append((f"<{tag} href={shown(value)}> {NOT_ALLOWED} ({link_rule(value)})", value))
        elif name in FETCHED_URL_ATTRIBUTES or name == "href":
            urls = re.split(r"[\s,]+", value) if name == "srcset" else [value]  # every word, to be safe
            found += [(f"<{tag} {name}={shown(url)}> {NOT_ALLOWED} ({FETCH_RULE})", url)
                      for url in urls if not fetchable(url)]
    return found


def css_rules(css: str, where: str) -> list[tuple[str, str]]:
    """(message, clue) for each URL in ``css`` that fetches from elsewhere."""
    return [(f"CSS fetching {shown(url)} in {where} {NOT_ALLOWED} ({FETCH_RULE})", url)
            for url in css_urls(css) if not fetchable(url)]


def link_rule(url: str) -> str:
    if scheme_of(url) in ("javascript", "vbscript"):
        return "it runs code"
    return "a link may go to http, https or mailto, or be relative"


def as_browsers_read(url: str) -> str:
    """``url`` as a browser's URL parser takes it: ' java\\tscript:' is 'javascript:'."""
    return URL_IGNORED.sub("", url.strip(URL_TRIMMED))


def scheme_of(url: str) -> str | None:
    """The scheme of ``url``, lower case; '//' for a URL that names another host without
    one (a browser reads '\\\\host' so too); None for a relative URL."""
    url = as_browsers_read(url)
    scheme = URL_SCHEME.match(url)
    if scheme:
        return scheme.group(1).lower()
    return "//" if url.replace("\\", "/").startswith("//") else None


def fetchable(url: str) -> bool:
    """True for a URL a page may load: relative (another file of the output), or a data: image."""
    scheme = scheme_of(url)
    return scheme is None or (scheme == "data" and as_browsers_read(url).lower().startswith(FETCHED_DATA))


def css_urls(css: str) -> list[str]:
    """The URLs a style sheet or style attribute may fetch, escapes read as a browser reads
    them: url() and @import, and every string given to a function (image-set("...")).
    A string elsewhere (``content: "..."``) is text."""
    if not CSS_MAY_FETCH.search(css):
        return []
    return list(_urls_in(tinycss2.parse_component_value_list(css, skip_comments=True)))


def _urls_in(tokens, in_function: bool = False):
    after_import = False
    for token in tokens:
        if token.type == "url" or (token.type == "string" and (in_function or after_import)):
            yield token.value
        elif token.type == "function":
            yield from _urls_in(token.arguments, in_function=True)
        elif token.type.endswith("block"):
            yield from _urls_in(token.content, in_function)
        if token.type != "whitespace":
            after_import = token.type == "at-keyword" and token.lower_value == "import"


def article(tag: str) -> str:
    return "an" if tag[0] in "aeiou" else "a"


def first_line(text: str) -> str:
    return text.split("\n")[0]


def shown(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message, cut short (a data: URL runs to megabytes)."""
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[:limit - 1] + "…")
