// Charts drawn with the vendored Apache ECharts (marketplace/static/vendor/echarts-6.1.0) from data the page
// carries as JSON (Django's json_script): no inline script, nothing fetched. Each chart sits beside the table
// that holds the same figures for screen readers; the chart container is role="img" with a summary label.
//
// <div class="chart-canvas" data-chart="id-of-json-script" role="img" aria-label="..."></div>
// The JSON: {"categories": [...], "horizontal": bool, "locale": "ZH"|"EN", "money": {"prefix", "suffix"},
//            "series": [{"name", "type": "bar"|"line", "unit": "count"|"percent"|"money", "values": [...]}]}
// Money values are yuan (the site's format: "¥20,000.00" in English, "20,000.00 元" in Chinese).
(function () {
  "use strict";
  var PALETTE = ["#0b5cab", "#c2410c", "#15803d", "#7e22ce", "#b45309"];

  function formatter(unit, data) {
    var money = data.money || {prefix: "", suffix: ""};
    var lang = data.locale === "EN" ? "en" : "zh-CN";
    var counts = new Intl.NumberFormat(lang, {maximumFractionDigits: 2});
    var amounts = new Intl.NumberFormat(lang, {minimumFractionDigits: 2, maximumFractionDigits: 2});
    return function (value) {
      if (value === null || value === undefined || value === "") { return "—"; }
      if (unit === "percent") { return counts.format(value) + "%"; }
      if (unit === "money") { return money.prefix + amounts.format(value) + money.suffix; }
      return counts.format(value);
    };
  }

  function option(data, width) {
    var units = [];
    data.series.forEach(function (s) { if (units.indexOf(s.unit) < 0) { units.push(s.unit); } });
    var valueAxes = units.map(function (unit, i) {
      return {type: "value", position: i === 0 ? (data.horizontal ? "bottom" : "left") : (data.horizontal ? "top" : "right"),
              minInterval: unit === "count" ? 1 : 0, max: unit === "percent" ? 100 : null,
              splitLine: {show: i === 0}, axisLabel: {formatter: formatter(unit, data), hideOverlap: true}};
    });
    var categoryAxis = {type: "category", data: data.categories, inverse: !!data.horizontal,
                        // on a phone a label takes at most a third of the width, leaving the bars room
                        axisLabel: {width: data.horizontal ? Math.min(180, Math.round(width / 3)) : 80,
                                    overflow: "truncate", hideOverlap: true}};
    var series = data.series.map(function (s, i) {
      var unitIndex = units.indexOf(s.unit);
      var item = {name: s.name, type: s.type || "bar", data: s.values, itemStyle: {color: PALETTE[i % PALETTE.length]},
                  tooltip: {valueFormatter: formatter(s.unit, data)}};
      if (data.horizontal) { item.xAxisIndex = unitIndex; } else { item.yAxisIndex = unitIndex; }
      if (item.type === "line") { item.connectNulls = false; item.symbolSize = 6; }
      return item;
    });
    return {
      animation: false,
      color: PALETTE,
      // richText: the tooltip is drawn by the chart itself, not as HTML with style attributes (the
      // Content-Security-Policy refuses inline styles).
      tooltip: {trigger: "axis", renderMode: "richText", confine: true},
      // One line, paged if it does not fit (on a phone two series' names wrapped onto the chart).
      legend: {show: series.length > 1, top: 0, type: "scroll"},
      grid: {left: 8, right: 8, top: series.length > 1 || data.horizontal ? 36 : 12, bottom: 8, containLabel: true},
      xAxis: data.horizontal ? valueAxes : categoryAxis,
      yAxis: data.horizontal ? categoryAxis : valueAxes,
      series: series
    };
  }

  function draw(container) {
    var source = document.getElementById(container.getAttribute("data-chart"));
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    if (data.horizontal) {  // one row per category, so long label lists stay legible
      container.style.height = Math.max(160, 60 + 26 * data.categories.length) + "px";
    } else if (!container.clientHeight) {
      container.style.height = "300px";
    }
    var chart = echarts.init(container, null, {locale: data.locale === "EN" ? "EN" : "ZH", renderer: "canvas"});
    chart.setOption(option(data, container.clientWidth || 360));
    container.setAttribute("data-chart-drawn", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function ready() { document.querySelectorAll("[data-chart]").forEach(draw); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
})();
