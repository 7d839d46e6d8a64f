// The CX dashboard's charts, drawn with Chart.js from the tables beside them: each chart's
// table holds its numbers (for screen readers and for the CSV), so chart and table agree.
(function () {
  "use strict";
  var COLOURS = ["#5b5bd6", "#2f9e6a", "#d9822b", "#c9372c"];

  function number(text) {
    return text === "" ? null : Number(text);
  }

  function readTable(table) {
    var heads = table.querySelectorAll("thead th");
    var names = Array.prototype.slice.call(heads, 1).map(function (cell) {
      return cell.textContent;
    });
    var labels = [];
    var values = names.map(function () { return []; });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      labels.push(row.querySelector("th").textContent);
      row.querySelectorAll("td").forEach(function (cell, index) {
        values[index].push(number(cell.getAttribute("data-value")));
      });
    });
    return { labels: labels, names: names, values: values };
  }

  // Days read as "11-03" (the year is in the table); other labels as they are.
  function dayTick(value) {
    var label = String(this.getLabelForValue(value));
    return /^\d{4}-\d{2}-\d{2}$/.test(label) ? label.slice(5) : label;
  }

  // Seconds read as minutes or hours, rates with a % sign.
  function valueTick(unit) {
    return function (value) {
      if (unit === "seconds") {
        return value >= 7200 ? Math.round(value / 360) / 10 + " h" : Math.round(value / 60) + " min";
      }
      return unit === "percent" ? value + "%" : value;
    };
  }

  function draw(figure) {
    var data = readTable(figure.querySelector("table"));
    var kind = figure.getAttribute("data-kind");
    var datasets = data.names.map(function (name, index) {
      var colour = COLOURS[index % COLOURS.length];
      return {
        label: name,
        data: data.values[index],
        borderColor: colour,
        backgroundColor: colour,
        spanGaps: true,
        pointRadius: 2
      };
    });
    return new window.Chart(figure.querySelector("canvas"), {
      type: kind,
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: {
          x: { ticks: { autoSkip: true, autoSkipPadding: 10, maxRotation: 0, callback: dayTick } },
          // Bars count things: whole numbers on their axis.
          y: { beginAtZero: kind === "bar", ticks: { precision: kind === "bar" ? 0 : undefined, callback: valueTick(figure.getAttribute("data-unit")) } }
        }
      }
    });
  }

  function clearDates(select) {
    if (select.value === "custom") {
      return;
    }
    select.form.querySelectorAll("input[type=date]").forEach(function (input) {
      input.value = "";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var period = document.querySelector("[data-period]");
    if (period) {
      period.addEventListener("change", function () { clearDates(period); });
    }
    if (!window.Chart) {
      return;
    }
    document.querySelectorAll("figure[data-chart]").forEach(function (figure) {
      figure.chart = draw(figure);
      figure.setAttribute("data-drawn", "true");
    });
  });
})();
