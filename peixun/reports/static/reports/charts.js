// Dashboard charts: every element with data-chart="ID" draws the ECharts option in the JSON script #ID.
(function () {
  if (!window.echarts) return;
  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var source = document.getElementById(box.getAttribute("data-chart"));
    if (!source) return;
    var chart = window.echarts.init(box, null, { renderer: "svg" });
    var option = JSON.parse(source.textContent);
    if (option.yAxis && option.yAxis.type === "category" && option.yAxis.data) {
      var bars = (option.series || []).filter(function (s) { return s.type === "bar" && !s.stack; }).length || 1;
      box.style.height = Math.max(220, 60 + option.yAxis.data.length * Math.max(26, 14 * bars)) + "px";
      chart.resize();
    }
    chart.setOption(option);
    box.setAttribute("data-rendered", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
