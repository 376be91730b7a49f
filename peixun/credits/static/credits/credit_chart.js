// Progress rings per credit category (data from the page's json_script; CSP forbids inline scripts).
(function () {
  function draw() {
    var source = document.getElementById("credit-chart-data");
    var box = document.getElementById("credit-chart");
    if (!source || !box || typeof echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    var cats = data.categories;
    if (!cats.length) return;
    var chart = echarts.init(box, null, { renderer: "svg" });
    var width = 100 / cats.length;
    var series = cats.map(function (c, i) {
      var done = Math.min(c.counted, c.required || c.counted);
      var rest = Math.max((c.required || 0) - c.counted, 0);
      var centre = (width * i + width / 2) + "%";
      return {
        type: "pie",
        radius: ["58%", "78%"],
        center: [centre, "45%"],
        silent: true,
        label: {
          show: true, position: "center", fontSize: 14, fontWeight: "bold",
          formatter: c.counted + (c.required ? " / " + c.required : "")
        },
        data: [
          { value: done || 0.0001, itemStyle: { color: c.percent >= 100 ? "#198754" : "#0d6efd" } },
          { value: rest, itemStyle: { color: "#e9ecef" } }
        ]
      };
    });
    var titles = cats.map(function (c, i) {
      return { text: c.label, left: (width * i + width / 2) + "%", top: "85%", textAlign: "center",
               textStyle: { fontSize: 12, fontWeight: "normal", color: "#495057" } };
    });
    chart.setOption({ animation: false, title: titles, series: series });
    window.addEventListener("resize", function () { chart.resize(); });
    box.setAttribute("data-rendered", "1");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
