"""The dashboard's web page over real HTTP: each chart is a figure with a title, a text
description, the picture (an SVG the server drew, with the description as alternative
text) and its data as a table beside it; numbers link to the lists behind them; no script.

The figures, the suppression and the query count are tested in-process in
tests/features/test_dashboard.py.
"""

from __future__ import annotations

import base64
import re
from html import unescape

from sqlalchemy import select

from bench.dashboard import NOW, Size, seed
from bot.core.clock import FixedClock
from bot.services import Services
from storage.models import Person, Role
from storage.people import grant
from tests.support.web import WebUser, text_of

SMALL = Size(organisations=60, engagements=6, opportunities=20, agreements=12, years=1, councils=2)
FIGURE = re.compile(r'<figure class="chart" aria-labelledby="(chart-[\w-]+)">(.*?)</figure>', re.S)
IMAGE = re.compile(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)"')
ROW = re.compile(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td></tr>', re.S)


async def test_the_commissioner_reads_charts_with_their_tables(
    web_user: WebUser, services: Services
) -> None:
    services.clock = FixedClock(NOW)
    async with services.db.session() as session:
        councils, _ = await seed(session, SMALL)
        dana = Person(name="Dana Reid", email="dana@bench.example", is_demo=True)
        session.add(dana)
        await session.flush()
        await grant(session, dana, Role.COMMISSIONER, authority_id=councils[0])
        assert await session.scalar(select(Person.id).where(Person.name == "Dana Reid"))
    await web_user.sign_in_locally("Dana Reid")
    status, html = await web_user.get("/do/dashboard")
    assert status == 200
    assert "<script" not in html
    page = text_of(html)
    assert "Dashboard: Bench Council 0" in page
    assert "Only Bench Council 0's commissioning team can see this dashboard." in page
    figures = FIGURE.findall(html)
    assert [name for name, _ in figures][:3] == [
        "chart-interest-by-size",
        "chart-interest-by-kind",
        "chart-rag",
    ]
    for name, body in figures:
        assert f'<figcaption id="{name}"><h2>' in body
        image = IMAGE.search(body)
        assert image is not None, name
        svg = base64.b64decode(image.group(1)).decode()
        assert svg.startswith("<?xml") and "<svg" in svg and "<script" not in svg
        description = unescape(image.group(2))
        assert description in text_of(body)  # the same words beside the picture
        rows = ROW.findall(body)
        assert rows, name
        for label, cell in rows:
            # Every number links to the list behind it; the picture says the same.
            link = re.fullmatch(r'<a href="(/do/\w+[^"]*)">(.*?)</a>', cell)
            assert link is not None, (name, label, cell)
            assert unescape(link.group(2)) in unescape(svg)
            assert unescape(label) in unescape(svg)
    # The service and area filters, as the readiness summary offers them.
    assert 'name="service"' in html and 'name="area"' in html
    status, filtered = await web_user.get("/do/dashboard?service=older_people")
    assert status == 200
    assert "Only things in older people." in text_of(filtered)
    # A number's link opens its list: the council's agreements.
    rag = dict(figures)["chart-rag"]
    link = re.search(r'<a href="(/do/agreements)">', rag)
    assert link is not None
    status, listed = await web_user.get(link.group(1))
    assert status == 200
    assert "Agreement 200000" in text_of(listed)
