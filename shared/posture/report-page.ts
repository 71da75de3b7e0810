import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { objectiveText } from '../policy/objective.js';
import type { AgeSeries } from './age-history.js';
import type { DrillPoint } from './drill-history.js';
import {
  continuousText,
  copiesWaitingText,
  type DatabasePosture,
  missesObjective,
  type Posture,
} from './posture.js';

echarts.use([LineChart, GridComponent, LegendComponent, TitleComponent, SVGRenderer]);

/** What the posture report shows: the posture now, and its history. */
export interface PostureReportData {
  readonly posture: Posture;
  /** Every drill of each database, oldest first. */
  readonly drills: Readonly<Record<string, readonly DrillPoint[]>>;
  /** Each database's restore-point age per region, per day. */
  readonly ages: readonly AgeSeries[];
  readonly ageDays: number;
}

const WIDTH = 560;
const HEIGHT = 240;
const MINUTE = 60;
const HOUR = 3600;

/**
 * The posture as a page people can look at: the status table, and per database a chart of its
 * drills' RTO and RPO against its objectives, and one of its restore points' age per region
 * against its RPO. One file: styles inline, charts as SVG drawn here by ECharts, no script, no
 * fetch: it opens offline, from S3 or from a disk.
 */
export function renderPostureReport(data: PostureReportData): string {
  const { posture } = data;
  const missed = posture.databases.filter(missesObjective);
  const sections = posture.databases.map((d) => databaseSection(d, data));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lifeboat posture: ${html(posture.policy)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Recovery posture of policy ${html(posture.policy)}</h1>
<p>Measured ${html(posture.at)}. ${posture.databases.length} databases;
<strong class="${missed.length ? 'missed' : 'met'}">${missed.length ? `${missed.length} miss an objective: ${html(missed.map((d) => d.identifier).join(', '))}` : 'every objective met'}</strong>;
${posture.unprotected.length} unprotected.</p>
</header>
<main>
<h2>Now</h2>
${statusTable(posture)}
${listSection(
  'Unprotected: no target covers them',
  posture.unprotected.map((u) => `${u.kind} ${u.identifier}`),
  'unprotected',
)}
${listSection('Copies', [copiesWaitingText(posture) ?? []].flat(), 'copies')}
${listSection(
  'Problems',
  posture.problems.map((p) => p.message),
  'problems',
)}
<h2>History</h2>
${sections.join('\n')}
</main>
</body>
</html>
`;
}

function statusTable(posture: Posture): string {
  const head = [
    'Database',
    'Tier',
    'RPO objective',
    'Restore point age',
    'DR restore point age',
    'RTO objective',
    'Last drill',
    'Continuous backups',
    'Verified restore point',
    'Objectives',
  ];
  const rows = posture.databases.map((d) => {
    const o = d.objectives;
    const last = d.lastDrill;
    const cells = [
      `${d.kind} ${d.identifier}`,
      o?.tier ?? '-',
      o ? objectiveText(o.rpoSeconds) : '-',
      age(d.primary.rpoSeconds),
      age(d.dr.rpoSeconds),
      o ? objectiveText(o.rtoSeconds) : '-',
      last
        ? `${last.at.slice(0, 16).replace('T', ' ')} ${last.outcome}, RTO ${age(last.rtoSeconds)}, RPO ${age(last.rpoSeconds)}`
        : 'never',
      continuousText(d, (n) => `${n} ${n === 1 ? 'day' : 'days'}`),
      d.verifiedAgeSeconds === null ? 'none' : `${age(d.verifiedAgeSeconds)} old`,
      holdsText(d),
    ];
    return `<tr data-database="${html(d.identifier)}" class="${missesObjective(d) ? 'missed' : 'met'}">${cells.map((c) => `<td>${html(c)}</td>`).join('')}</tr>`;
  });
  return `<table id="status">
<thead><tr>${head.map((h) => `<th>${html(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${gapsList(posture.databases)}`;
}

function holdsText(d: DatabasePosture): string {
  const word = (v: boolean | null) => (v === null ? 'unknown' : v ? 'met' : 'MISSED');
  return `RPO ${word(d.holds.rpo)}, DR RPO ${word(d.holds.drRpo)}, RTO ${word(d.holds.rto)}, verified ${word(d.holds.verified)}`;
}

function gapsList(databases: readonly DatabasePosture[]): string {
  const gaps = databases.flatMap((d) => d.gaps.map((g) => `${d.identifier}: ${g}`));
  return listSection('Short of the tier', gaps, 'gaps');
}

function listSection(title: string, items: readonly string[], id: string): string {
  if (items.length === 0) return '';
  return `<section id="${id}"><h3>${html(title)}</h3><ul>${items.map((i) => `<li>${html(i)}</li>`).join('')}</ul></section>`;
}

function databaseSection(d: DatabasePosture, data: PostureReportData): string {
  const drills = data.drills[d.identifier] ?? [];
  const ages = data.ages.filter((a) => a.target === d.identifier);
  return `<section class="database" id="db-${html(d.identifier)}">
<h3>${html(`${d.kind} ${d.identifier}`)}${d.objectives ? ` <small>tier ${html(d.objectives.tier)}</small>` : ''}</h3>
<div class="charts">
${figure(d.identifier, 'drills', `Drills: RTO and RPO (minutes), ${drills.length} drills`, drillChart(d, drills), drillPoints(drills))}
${figure(
  d.identifier,
  'age',
  `Restore point age (hours), daily worst, last ${data.ageDays} days`,
  ageChart(d, ages),
  ages.reduce((n, a) => n + a.points.length, 0),
)}
</div>
</section>`;
}

/** Points a drill chart draws: one per measured RTO and one per measured RPO. */
export function drillPoints(drills: readonly DrillPoint[]): number {
  return drills.reduce(
    (n, p) => n + (p.rtoSeconds === null ? 0 : 1) + (p.rpoSeconds === null ? 0 : 1),
    0,
  );
}

function figure(
  target: string,
  chart: 'drills' | 'age',
  caption: string,
  svg: string,
  points: number,
): string {
  return `<figure data-target="${html(target)}" data-chart="${chart}" data-points="${points}">
<figcaption>${html(caption)}</figcaption>
${svg}
</figure>`;
}

type Line = {
  readonly name: string;
  readonly data: readonly (readonly [number, number | null])[];
  readonly symbols: boolean;
  readonly dashed?: boolean;
};

function drillChart(d: DatabasePosture, drills: readonly DrillPoint[]): string {
  const at = (p: DrillPoint) => Date.parse(p.at);
  const minutes = (s: number | null) => (s === null ? null : round(s / MINUTE));
  const lines: Line[] = [
    { name: 'RTO', data: drills.map((p) => [at(p), minutes(p.rtoSeconds)]), symbols: true },
    { name: 'RPO', data: drills.map((p) => [at(p), minutes(p.rpoSeconds)]), symbols: true },
  ];
  const span = timeSpan(drills.map(at));
  if (d.objectives && span) {
    lines.push(
      objectiveLine('RTO objective', span, d.objectives.rtoSeconds / MINUTE),
      objectiveLine('RPO objective', span, d.objectives.rpoSeconds / MINUTE),
    );
  }
  return chartSvg(lines, drills.length === 0 ? 'no drill yet' : undefined);
}

function ageChart(d: DatabasePosture, ages: readonly AgeSeries[]): string {
  const lines: Line[] = ages.map((a) => ({
    name: a.region,
    data: a.points.map(([t, s]) => [Date.parse(t), round(s / HOUR)]),
    symbols: true,
  }));
  const span = timeSpan(ages.flatMap((a) => a.points.map(([t]) => Date.parse(t))));
  if (d.objectives && span)
    lines.push(objectiveLine('RPO objective', span, d.objectives.rpoSeconds / HOUR));
  const empty = ages.every((a) => a.points.length === 0);
  return chartSvg(lines, empty ? 'no measurement yet' : undefined);
}

function objectiveLine(name: string, [from, to]: readonly [number, number], value: number): Line {
  return {
    name,
    data: [
      [from, round(value)],
      [to, round(value)],
    ],
    symbols: false,
    dashed: true,
  };
}

function timeSpan(times: readonly number[]): [number, number] | undefined {
  if (times.length === 0) return undefined;
  const from = Math.min(...times);
  const to = Math.max(...times);
  // A single point still gets a line across it.
  return from === to ? [from - 43_200_000, to + 43_200_000] : [from, to];
}

const round = (n: number) => Math.round(n * 100) / 100;

/** One chart, drawn to SVG on the server: no script runs in the page. */
function chartSvg(lines: readonly Line[], empty: string | undefined): string {
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: WIDTH,
    height: HEIGHT,
  });
  try {
    chart.setOption({
      animation: false,
      ...(empty
        ? {
            title: {
              text: empty,
              left: 'center',
              top: 'middle',
              textStyle: { fontSize: 13, color: '#777' },
            },
          }
        : {}),
      legend: { top: 0, data: lines.map((l) => l.name) },
      grid: { left: 48, right: 16, top: 32, bottom: 28 },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', min: 0 },
      series: lines.map((l) => ({
        type: 'line',
        name: l.name,
        data: l.data,
        showSymbol: l.symbols,
        showAllSymbol: true,
        connectNulls: false,
        symbolSize: 5,
        ...(l.dashed ? { lineStyle: { type: 'dashed', width: 1 }, silent: true } : {}),
      })),
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function age(seconds: number | null): string {
  return seconds === null ? '-' : objectiveText(seconds);
}

function html(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2433;background:#f7f8fa}
header,main{max-width:1200px;margin:0 auto;padding:16px 24px}
header{border-bottom:1px solid #dde1e8;background:#fff;max-width:none}
h1{font-size:22px;margin:8px 0}
h2{font-size:18px;margin:24px 0 8px}
h3{font-size:15px;margin:16px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #dde1e8;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
tr.missed td:first-child,strong.missed{color:#b3261e}
tr.missed td:last-child{color:#b3261e;font-weight:600}
strong.met{color:#1b6e3a}
.database{background:#fff;border:1px solid #dde1e8;padding:8px 16px;margin:12px 0}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0}
figcaption{font-size:13px;color:#4a5263;margin-bottom:4px}
small{color:#4a5263;font-weight:normal}
`;
