"""The check that a rendered page runs and fetches nothing (briefgen/inert.py), rule by rule."""

from __future__ import annotations

import pytest

from briefgen.inert import active_content
from briefgen.locate import DEFAULT_TEMPLATES
from briefgen.render_html import ActiveContentWritten, inert

RUNS_OR_EMBEDS = [
    "<script>alert(1)</script>", "<applet></applet>", "<iframe src=x></iframe>", "<frameset>", "<frame src=x>",
    '<object data="x"></object>', '<embed src="x">', '<base href="https://example.org/">',
    '<form action="https://example.org/"></form>', "<input>", "<button>x</button>", "<textarea></textarea>",
    "<select></select>", '<meta http-equiv="refresh" content="0;url=https://example.org/">',
    '<meta charset="iso-2022-jp">', '<link rel="preload" href="x.css">', '<link rel="stylesheet prefetch" href="x.css">',
    '<link rel="attachment" href="note.txt">', "<details open ontoggle=alert(1)>", "<img src=x ONERROR=alert(1)>",
]
SCRIPT_URLS = [
    '<a href="javascript:alert(1)">x</a>', '<a href="  JAVASCRIPT:alert(1)">x</a>', '<a href="vbscript:x">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>', '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="\x01javascript:alert(1)">x</a>', '<a href="data:text/html,x">x</a>', '<a href="file:///etc/passwd">x</a>',
    '<area href="javascript:alert(1)">',
]
FETCHES = [
    '<img src="https://example.org/x.png">', '<img src="//example.org/x.png">', '<img src="\\\\example.org/x.png">',
    '<img src="file:///etc/passwd">', '<img src="data:text/html,x">', '<img srcset="x.png 1x, http://example.org/y.png 2x">',
    '<img src="data:image/png,x" srcset="data:image/png,x, //example.org/x 2x">', '<video poster="http://example.org/p.png">',
    '<body background="http://example.org/b.png">', '<a ping="http://example.org/" href="#x">x</a>',
    '<html manifest="http://example.org/m">', '<link rel="stylesheet" href="http://example.org/x.css">',
    '<link rel="stylesheet" href="data:text/css,a{}">',
]
CSS_FETCHES = [
    "<style>a{background:url(http://example.org/x)}</style>", "<style>a{background:url( 'ftp://example.org/x' )}</style>",
    "<style>a{background:\\75rl(http://example.org/x)}</style>", "<style>a{background:url(ht\\74p://example.org/x)}</style>",
    '<style>@import "http://example.org/x.css";</style>', '<style>@import url("//example.org/x.css");</style>',
    '<style>a{b:image-set("http://example.org/x" 1x)}</style>', "<style>a{b:-webkit-image-set(url(file:///x) 1x)}</style>",
    "<style>@font-face{src:url(https://example.org/f.woff)}</style>", "<style>a{b:url(data:text/css,x)}</style>",
    '<p style="background:url(&quot;http://example.org/x&quot;)">', '<p style="background:URL(//example.org/x)">',
]
# Text html.parser reads otherwise than a browser: each hides an element or a handler from it.
READ_OTHERWISE = [
    "<!--><img src=x onerror=alert(1)>-->", "<!---><img src=x onerror=alert(1)>-->",
    "<!-- a --!><img src=x onerror=alert(1)>-->", "<![CDATA[><img src=x onerror=alert(1)>]]>",
    '<title><img alt="</title><img src=x onerror=alert(1)>"></title>',
    "<title><!-- </title><img src=x onerror=alert(1)> --></title>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<style></ style><p title="</style><img src=x onerror=alert(1)>">', "<style></style x><img src=x onerror=alert(1)>",
    '<style/><p title="</style><img src=x onerror=alert(1)>">', "<style>a{}",
    '<p title=x\u00a0y="<img src=x onerror=alert(1)>">', '<img src="x"onerror="alert(1)">', "<img/onerror=alert(1) src=x>",
    "<img src=`x` onerror=alert(1)>", "<x\x00 onfocus=alert(1) autofocus tabindex=1>", "</p x>", "</ p>",
    '<svg><style><img src=x onerror=alert(1)></style></svg>', '<math><a href="javascript:alert(1)">x</a></math>',
    "<xmp>", "<noembed>", "<noframes>", "<plaintext>", "\x1b$B<p>",
]
INERT = [
    '<div class="x"><a href="https://example.org">Example</a></div>', '<a href="http://example.org/a?b=1&amp;c=2">x</a>',
    '<a href="mailto:a@example.org">m</a>', '<a href="#people">p</a>', '<a href="book.html">b</a>',
    '<a href="//example.org">x</a>', '<img src="data:image/png;base64,iVBOR" alt="x">', '<img src="map.png" alt="x">',
    '<img src="x.png" srcset="x.png 1x, y.png 2x">', '<link rel="stylesheet" href="own.css">',
    '<style>a{color:red} .x{content:"url(http://example.org)"}</style>', "<style>@import \"local.css\";</style>",
    '<style>@page { @top-center { content: "NATO \\3a  UNCLASSIFIED"; } }</style>',
    "<style>a{background:url(data:image/png;base64,AAAA)}</style>", '<p style="color: red">x</p>',
    '<meta charset="utf-8">', '<meta name="viewport" content="width=device-width">', "<!-- a comment -->",
    "<!DOCTYPE html><html lang=en><head><title>A &amp; B</title></head><body><p>1 &lt; 2, a < b</p></body></html>",
    "<br/><hr />", '<p data-page="\x1fpage:x\x1f">x</p>', "<td align=right>1</td>",
]


@pytest.mark.parametrize("html", RUNS_OR_EMBEDS + SCRIPT_URLS + FETCHES + CSS_FETCHES + READ_OTHERWISE)
def test_refused(html):
    assert active_content(html)


@pytest.mark.parametrize("html", INERT)
def test_inert(html):
    assert active_content(html) == []


def test_a_page_of_briefgens_own_templates_that_is_not_inert_is_a_bug():
    with pytest.raises(ActiveContentWritten, match="book.html: a <script> element is not allowed"):
        inert("<p>x</p><script></script>", DEFAULT_TEMPLATES, "book.html")
