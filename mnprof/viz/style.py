"""The page's inline stylesheet (screen and print) and its one small script.

The script only sorts a table when its heading is clicked; the page reads the same
without it (a viewer that blocks scripts loses nothing else).
"""

from __future__ import annotations

from .figure import FONT_STACK

CSS = """
:root { color-scheme: light; --ink: #1d2329; --muted: #5f6b76; --line: #e3e7eb;
  --bg: #f5f6f8; --panel: #fff; --pass: #2f7a2a; --fail: #c0392b; --warn: #b9600f; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 FONTS; font-variant-numeric: tabular-nums; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
.kicker { margin: 0; color: var(--muted); font-size: 13px; letter-spacing: .06em;
  text-transform: uppercase; }
h1 { margin: 2px 0 4px; font-size: 28px; line-height: 1.2; }
h2 { margin: 0 0 10px; font-size: 20px; }
.subtitle { margin: 0 0 14px; color: var(--muted); overflow-wrap: anywhere; }
nav { display: flex; flex-wrap: wrap; gap: 6px; margin: 0 0 18px; }
nav a { padding: 3px 12px; border: 1px solid var(--line); border-radius: 999px;
  background: var(--panel); color: var(--ink); text-decoration: none; font-size: 14px; }
nav a:hover { border-color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr));
  gap: 12px; margin: 0 0 16px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 12px 14px; min-width: 0; }
.card .label { color: var(--muted); font-size: 12.5px; text-transform: uppercase;
  letter-spacing: .04em; }
.card .value { font-size: 24px; font-weight: 700; line-height: 1.25;
  overflow-wrap: break-word; }
.card .value.long { font-size: 18px; }
.card .detail { color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
.card.pass { border-left: 5px solid var(--pass); }
.card.fail { border-left: 5px solid var(--fail); }
.card.warn { border-left: 5px solid var(--warn); }
.card.fail .value { color: var(--fail); } .card.pass .value { color: var(--pass); }
.legend { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 14px;
  margin: 0 0 16px; padding: 8px 14px; background: var(--panel);
  border: 1px solid var(--line); border-radius: 10px; font-size: 13.5px; }
.legend-title { font-weight: 600; color: var(--muted); margin-right: 4px; }
.key { white-space: nowrap; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 3px;
  margin-right: 6px; vertical-align: -1px; print-color-adjust: exact;
  -webkit-print-color-adjust: exact; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 12px;
  padding: 18px 22px 10px; margin: 0 0 18px; }
section > p { margin: 0 0 10px; max-width: 78ch; }
.banner { font-size: 22px; font-weight: 700; padding: 10px 16px; border-radius: 8px;
  margin: 0 0 12px; color: #fff; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.banner.pass { background: var(--pass); } .banner.fail { background: var(--fail); }
.banner.warn { background: var(--warn); }
figure.chart-box { margin: 4px 0 16px; }
svg.chart { display: block; width: 100%; height: auto; max-width: 100%; }
svg.chart text { font-family: FONTS !important; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 4px; max-width: 90ch; }
.table-wrap { overflow-x: auto; margin: 4px 0 6px; }
table { border-collapse: collapse; font-size: 13.5px; min-width: 40%; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { background: #eef1f4; font-weight: 600; position: sticky; top: 0; cursor: pointer; }
th.num, td.num { text-align: right; } th.txt, td.txt { text-align: left; }
tbody tr:nth-child(even) { background: #fafbfc; }
tbody tr:hover { background: #fff6d8; }
tfoot td { font-weight: 700; border-top: 2px solid var(--muted); border-bottom: 0; }
td.fail { color: var(--fail); font-weight: 700; } td.pass { color: var(--pass); }
td[data-key="why"], td[data-key="method"], td[data-key="value"].txt {
  white-space: normal; min-width: 22em; }
td[data-key="why"] { min-width: 24em; }
td[data-key="name"], td[data-key="label"] { white-space: normal; overflow-wrap: anywhere;
  min-width: 9em; max-width: 19em; }
.table-note { color: var(--muted); font-size: 13px; white-space: pre-line; margin: 4px 0 12px; }
details { margin: 6px 0 12px; } summary { cursor: pointer; font-weight: 600; }
.notes { color: var(--muted); font-size: 13.5px; padding-left: 18px; }
.notes li { margin: 3px 0; }
footer { color: var(--muted); font-size: 13px; padding-bottom: 30px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono',
  monospace; font-size: 92%; }
@media print {
  @page { size: A4 landscape; margin: 11mm; }
  body { background: #fff; font-size: 10pt; }
  header, main, footer { max-width: none; padding: 0; }
  nav, footer p + p { display: none; }
  section { border: 0; padding: 0; margin: 0 0 8mm; break-inside: auto; }
  figure.chart-box, .cards, .banner, .legend { break-inside: avoid; }
  h2 { break-after: avoid; }
  table { font-size: 8pt; } th { position: static; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  tbody tr:nth-child(even) { background: none; }
  .table-wrap { overflow: visible; }
  details > summary { list-style: none; }
  .card { border-color: #bbb; }
}
""".replace("FONTS", FONT_STACK)

SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('thead th').forEach(function (th, col) {
    th.title = 'sort';
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var down = th.dataset.sorted !== 'desc';
      table.querySelectorAll('thead th').forEach(function (h) { delete h.dataset.sorted; });
      th.dataset.sorted = down ? 'desc' : 'asc';
      function key(r) {
        var c = r.cells[col], v = c ? c.getAttribute('data-value') : null;
        if (v === null) return null;
        var n = Number(v);
        return v === '' || isNaN(n) ? v.toLowerCase() : n;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        var o = (typeof x === 'number' && typeof y === 'number') ? x - y
          : String(x).localeCompare(String(y));
        return down ? -o : o;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""
