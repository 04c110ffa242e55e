"""An area report as one self-contained HTML file (the batch export's companion of each PDF):
the same texts, tables and charts as the web page, with its style and charts inside, so it opens
offline, from a folder or a mail. Jinja2 escapes every value; the texts are sanitised HTML."""

from __future__ import annotations

from jinja2 import Environment

from obmi.reports.area_report_build import ReportView, unit_word
from obmi.reports.area_report_charts import inline_svg
from obmi.reports.area_report_pdf import LABELS, document_data

TEMPLATE = """<!doctype html>
<html lang="{{ r.lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ r.title }} {{ r.area.name }}</title>
<style>
body { font-family: system-ui, sans-serif; color: #1f2933; margin: 0 auto; padding: 1rem; max-width: 60rem; line-height: 1.45; }
.kicker { color: #0072b2; font-weight: 700; text-transform: uppercase; letter-spacing: .06em; margin: 0; }
h1 { margin: .2rem 0 .1rem; } h1 small { font-size: 1rem; color: #52606d; font-weight: 400; }
h2 { color: #0072b2; margin-top: 2rem; } h3 { font-size: 1.05rem; }
.muted, .note { color: #52606d; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #d9dee4; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; } .sign { color: #7b8794; }
figure { margin: .3rem 0; max-width: 38rem; } svg { display: block; width: 100%; height: auto; }
svg text { font-family: Inter, Arial, Helvetica, "Liberation Sans", sans-serif; }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
</style>
</head>
<body>
<main>
<p class="kicker">{{ r.title }}</p>
<h1>{{ r.area.name }} <small>{{ r.level_name }}</small></h1>
{% if r.references %}<p class="muted">{{ L.references }}: {{ r.references|map(attribute="name")|join(", ") }}</p>{% endif %}
{{ r.intro.html|safe }}
{% for s in r.sections %}{% set si = loop.index %}
<section>
<h2>{{ s.heading }}</h2>
{{ s.text.html|safe }}
{% for b in s.blocks %}
{% if b.title %}<h3>{{ b.title }}</h3>{% endif %}
{% if b.empty %}<p class="muted">{{ b.empty }}</p>{% endif %}
{% if b.table %}<div class="wide"><table>
<thead><tr>
<th scope="col">{{ L.indicator }}</th><th scope="col">{{ L.period }}</th>
<th scope="col" class="num">{{ r.area.name }}</th><th scope="col" class="num">{{ L.change }}</th>
{% for ref in b.table.references %}<th scope="col" class="num">{{ ref.name }}</th>{% endfor %}
</tr></thead>
<tbody>
{% for row in b.table.rows %}{% set unit = unit_word(row.unit, r.lang) %}
<tr><th scope="row">{{ row.name }}{% if unit %} <small class="muted">{{ unit }}</small>{% endif %}</th>
<td>{{ row.period }}</td>{{ cell(row.value) }}
<td class="num">{{ row.change }} <small class="muted">{{ row.change_note }}</small></td>
{% for c in row.refs %}{{ cell(c) }}{% endfor %}</tr>
{% endfor %}
</tbody>
</table></div>{% endif %}
{% if b.chart %}{% set id = "chart-" ~ si ~ "-" ~ loop.index %}
<figure>{{ svg(b.chart.svg, id)|safe }}
<figcaption id="{{ id }}" class="{{ 'vh' if b.chart.description == b.title else 'muted' }}">{{ b.chart.description }}</figcaption>
</figure>
{% if b.chart.note %}<p class="note">{{ b.chart.note }}</p>{% endif %}
{% endif %}
{% endfor %}
</section>
{% endfor %}
<h2>{{ L.sources }}</h2>
{% for line in notes %}<p class="muted">{{ line }}</p>{% endfor %}
{% if signs %}<p class="muted">{{ L.signs }}: {{ signs|join("; ") }}.</p>{% endif %}
</main>
</body>
</html>
"""

_CELL = "{% macro cell(c) %}<td class=\"num{% if c.kind != 'value' %} sign{% endif %}\">{{ c.text }}</td>{% endmacro %}"
_environment = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_template = _environment.from_string(_CELL + TEMPLATE)


def render_report_html(report: ReportView, *, site_name: str = "OBMi") -> str:
    # the PDF's notes, legend of signs and date line: one wording for both documents
    data = document_data(report, site_name)
    return _template.render(r=report, L=LABELS[report.lang], notes=data["notes"] + [data["generated"] + "."],
                            signs=data["signs"], svg=inline_svg, unit_word=unit_word)
