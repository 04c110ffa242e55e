"""Reading the public pages through a FastAPI TestClient: one definition of "get the page as a
browser would" and "the words a reader sees", for the page tests."""

from __future__ import annotations

import html
import re

HTML = {"Accept": "text/html"}


def get_html(client, url: str, status: int = 200) -> str:
    """The page at `url` as a browser asks for it; every page starts afresh (`?lang=en` is
    remembered in a cookie)."""
    client.cookies.clear()
    response = client.get(url, headers=HTML)
    assert response.status_code == status, (url, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html"), (url, response.headers["content-type"])
    return response.text


def text_of(page: str) -> str:
    """The page's words as a reader sees them: scripts and visually hidden text dropped, tags
    dropped, entities decoded, spaces collapsed."""
    body = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S)
    body = re.sub(r'<span class="visually-hidden">.*?</span>', " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
