// The overview: the /stats KPIs and their charts, fetched from overview.json (the page itself
// comes at once; the figures take a second on a big group) and drawn by ECharts (vendored:
// no CDN): the days of the period, and the retention cohorts as a heatmap.
(function () {
  "use strict";
  var kpis = document.getElementById("kpis");
  if (!kpis) return;
  fetch(kpis.dataset.source, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then(function (data) {
      showKpis(data);
      if (window.echarts) drawCharts(data.charts);
    })
    .catch(function () {
      kpis.textContent = kpis.dataset.failed;
      kpis.setAttribute("role", "alert");
      kpis.removeAttribute("aria-busy");
    });

  function showKpis(data) {
    kpis.textContent = "";
    data.blocks.forEach(function (block) {
      var box = document.createElement("div");
      box.className = "kpi-block";
      block.forEach(function (line) {
        var row = document.createElement("div");
        row.className = "kpi";
        var name = document.createElement("span");
        name.className = "kpi-name";
        name.textContent = line[0];
        var value = document.createElement("strong");
        value.className = "kpi-value";
        value.textContent = line[1];
        row.appendChild(name);
        row.appendChild(value);
        if (line[2]) {
          var change = document.createElement("span");
          change.className = "kpi-change";
          change.textContent = line[2];
          row.appendChild(change);
        }
        box.appendChild(row);
      });
      kpis.appendChild(box);
    });
    kpis.removeAttribute("aria-busy");
    document.getElementById("period").textContent = data.period;
  }
})();

function drawCharts(data) {
  "use strict";
  var css = getComputedStyle(document.documentElement);
  var text = (css.getPropertyValue("--text") || "#1a1a1a").trim();
  var hint = (css.getPropertyValue("--hint") || "#555555").trim();
  var palette = ["#2f6fd6", "#d9822b", "#2a9d5c", "#c23b3b"];
  var drawn = 0;

  function draw(id, option) {
    var el = document.getElementById("chart-" + id);
    if (!el) return;
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.on("finished", function () {
      if (!el.dataset.drawn) {
        el.dataset.drawn = "1";
        drawn += 1;
        document.documentElement.dataset.chartsDrawn = String(drawn);
      }
    });
    chart.setOption(option);
    window.addEventListener("resize", function () {
      chart.resize();
    });
  }

  function axis(x) {
    return {
      type: "category",
      data: x,
      axisLabel: { color: hint, formatter: function (v) { return v.slice(5); } },
    };
  }

  function series(spec) {
    return {
      color: palette,
      textStyle: { color: text },
      tooltip: { trigger: "axis" },
      legend: { top: 0, textStyle: { color: text } },
      grid: { left: 40, right: 12, top: 36, bottom: 28 },
      xAxis: axis(spec.x),
      yAxis: { type: "value", axisLabel: { color: hint } },
      dataZoom: [{ type: "inside" }],
      series: spec.series.map(function (s) {
        return { name: s.name, type: spec.bar ? "bar" : "line", smooth: true, data: s.data };
      }),
    };
  }

  ["activity", "growth", "sales"].forEach(function (id) {
    if (data[id]) draw(id, series(data[id]));
  });

  var c = data.cohorts;
  if (c) {
    var weeks = c.weeks.map(function (w) { return w.slice(5); });
    var most = 0;
    c.cells.forEach(function (cell) { most = Math.max(most, cell[0]); });
    var after = [];
    for (var k = 0; k <= most; k += 1) after.push(c.label + " " + k);
    draw("cohorts", {
      textStyle: { color: text },
      tooltip: { position: "top" },
      grid: { left: 52, right: 12, top: 12, bottom: 64 },
      xAxis: { type: "category", data: after, axisLabel: { color: hint } },
      yAxis: { type: "category", data: weeks, axisLabel: { color: hint } },
      visualMap: {
        min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0,
        itemHeight: 120, textStyle: { color: text }, inRange: { color: ["#e8f0fc", "#1f4e9c"] },
      },
      series: [{ type: "heatmap", data: c.cells, label: { show: true, formatter: function (p) { return p.value[2] + "%"; } } }],
    });
  }
}
