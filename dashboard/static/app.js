// Switchboard dashboard: draws the charts and keeps the page live.
//
// Safety: every captured text reaches the page through the server's escaped HTML (Jinja2 autoescape).
// This script never builds HTML from data: chart specs are read as JSON from inert
// <script type="application/json"> blocks, and live updates swap whole server-rendered regions parsed by
// DOMParser (which runs no script; the Content-Security-Policy would refuse inline script anyway).
"use strict";

(function () {
  const charts = new Map(); // canvas id -> Chart

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function palette() {
    return [cssVar("--chart-1"), cssVar("--chart-2"), cssVar("--chart-3"), cssVar("--chart-4")];
  }

  function readSpec(doc, canvas) {
    const source = doc.getElementById(canvas.dataset.chart);
    if (!source) return null;
    try {
      return JSON.parse(source.textContent || "null");
    } catch (err) {
      return null;
    }
  }

  function formatValue(unit, value) {
    if (value === null || value === undefined) return "–";
    if (unit === "usd") return "$" + Number(value).toFixed(value > 0 && value < 0.01 ? 4 : 2);
    if (unit === "ms") return Math.round(value) + " ms";
    if (unit === "percent") return Math.round(value * 100) + "%";
    return String(value);
  }

  // Long category names (provider:model · task) would squeeze a horizontal chart to nothing on a phone.
  function shortLabel(value) {
    const label = String(this.getLabelForValue(value));
    const limit = window.innerWidth < 600 ? 18 : 40;
    return label.length > limit ? label.slice(0, limit - 1) + "…" : label;
  }

  function chartConfig(spec) {
    const unit = spec.unit;
    function valueTick(value) {
      if (unit === "usd") return "$" + Number(value).toLocaleString();
      if (unit === "ms") return value >= 1000 ? value / 1000 + " s" : value + " ms";
      return Number(value).toLocaleString();
    }
    const colors = palette();
    const text = cssVar("--muted");
    const grid = cssVar("--chart-grid");
    const stacked = Boolean(spec.stacked);
    return {
      type: spec.type || "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, i) {
          const color = colors[i % colors.length];
          return {
            label: series.label,
            data: series.data,
            backgroundColor: spec.type === "line" ? color + "33" : color,
            borderColor: color,
            borderWidth: spec.type === "line" ? 2 : 0,
            pointRadius: spec.type === "line" ? 2 : 0,
            // One filled area reads well; several overlapping ones do not.
            fill: spec.type === "line" && spec.series.length === 1,
            tension: 0.25,
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: spec.horizontal ? "y" : "x",
        plugins: {
          legend: { display: spec.series.length > 1, labels: { color: text, boxWidth: 12 } },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                return ctx.dataset.label + ": " + formatValue(spec.unit, ctx.parsed[spec.horizontal ? "x" : "y"]);
              },
            },
          },
        },
        scales: {
          x: {
            stacked: stacked,
            ticks: spec.horizontal ? { color: text, callback: valueTick } : { color: text, maxRotation: 0, autoSkip: true },
            grid: { color: grid },
          },
          y: {
            stacked: stacked,
            beginAtZero: true,
            ticks: spec.horizontal ? { color: text, callback: shortLabel } : { color: text, callback: valueTick },
            grid: { color: grid },
          },
        },
      },
    };
  }

  function drawCharts(doc) {
    if (typeof window.Chart === "undefined") return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      const spec = readSpec(doc, canvas);
      if (!spec) return;
      const existing = charts.get(canvas.id);
      if (existing && existing.canvas === canvas) {
        const fresh = chartConfig(spec);
        existing.data.labels = fresh.data.labels;
        existing.data.datasets = fresh.data.datasets;
        existing.update();
        return;
      }
      if (existing) existing.destroy();
      charts.set(canvas.id, new window.Chart(canvas, chartConfig(spec)));
    });
  }

  function redrawAll() {
    charts.forEach(function (chart) {
      chart.destroy();
    });
    charts.clear();
    drawCharts(document);
  }

  // Live updates -----------------------------------------------------------------------------------------

  const statusEl = document.getElementById("live-status");
  const pageTopics = (document.body.dataset.topics || "").split(" ").filter(Boolean);
  let refreshTimer = null;
  let refreshing = false;

  function setStatus(state, label) {
    if (!statusEl) return;
    statusEl.dataset.state = state;
    statusEl.textContent = label;
  }

  function swapRegions(fresh) {
    document.querySelectorAll("[data-live]").forEach(function (region) {
      const replacement = fresh.getElementById(region.id);
      if (replacement) region.replaceWith(document.importNode(replacement, true));
    });
    // Chart specs live inside the regions; keep the canvases (and their Chart instances), feed new data.
    drawCharts(document);
  }

  async function refresh() {
    if (refreshing) {
      scheduleRefresh();
      return;
    }
    refreshing = true;
    try {
      const response = await fetch(window.location.href, {
        credentials: "same-origin",
        headers: { accept: "text/html" },
        cache: "no-store",
      });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      swapRegions(fresh);
      document.body.dataset.generation = String(Number(document.body.dataset.generation || "0") + 1);
      setStatus("live", "updated " + new Date().toLocaleTimeString());
    } catch (err) {
      setStatus("offline", "update failed");
    } finally {
      refreshing = false;
    }
  }

  function scheduleRefresh() {
    if (refreshTimer !== null) clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      refresh();
    }, 250);
  }

  function listen() {
    if (typeof EventSource === "undefined" || pageTopics.length === 0) return;
    const source = new EventSource("/events");
    let dropped = false;
    source.addEventListener("hello", function () {
      setStatus("live", "live");
      // Back after a dropped connection: changes made meanwhile were never announced.
      if (dropped) scheduleRefresh();
      dropped = false;
    });
    source.addEventListener("change", function (event) {
      let topics = [];
      try {
        topics = JSON.parse(event.data).topics || [];
      } catch (err) {
        return;
      }
      if (topics.some(function (t) { return pageTopics.includes(t); })) scheduleRefresh();
    });
    source.onerror = function () {
      dropped = true;
      setStatus("offline", "reconnecting…");
    };
  }

  // Chart colours come from CSS variables: redraw when the system switches between light and dark.
  const scheme = window.matchMedia("(prefers-color-scheme: dark)");
  if (scheme.addEventListener) scheme.addEventListener("change", redrawAll);

  drawCharts(document);
  listen();
})();
