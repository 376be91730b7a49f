// The scorecard chart: spot checks (bars) and average rating (line) per institution that was checked.
(function () {
  var box = document.getElementById("scorecard-chart");
  var source = document.getElementById("scorecard-data");
  if (!box || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var chart = window.echarts.init(box);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: [data.labels.checks, data.labels.rating] },
    grid: { left: 40, right: 40, bottom: 90 },
    xAxis: { type: "category", data: data.names, axisLabel: { interval: 0, rotate: 30 } },
    yAxis: [
      { type: "value", name: data.labels.checks, minInterval: 1 },
      { type: "value", name: data.labels.rating, min: 1, max: 4, interval: 1 }
    ],
    series: [
      { name: data.labels.checks, type: "bar", data: data.checks },
      { name: data.labels.rating, type: "line", yAxisIndex: 1, data: data.ratings }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
