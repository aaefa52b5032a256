// The supervisors' charts (workload, flow) (Chart.js, window.Chart from dist/chart.js). Each chart draws the table beside
// it, which stays on the page for screen readers and as the figures' one source: the first column is the
// x axis, every other column a line.
(function () {
  'use strict';
  var COLOURS = ['#005ea5', '#b10e1e', '#00703c', '#8a5300', '#4c2c92', '#28a197', '#d53880', '#505a5f'];

  function draw(figure) {
    if (figure.dataset.drawn || !window.Chart) { return; }
    var table = figure.querySelector('table');
    var canvas = figure.querySelector('canvas');
    var names = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) { return th.textContent.trim(); });
    var rows = Array.prototype.map.call(table.querySelectorAll('tbody tr'), function (tr) {
      return Array.prototype.map.call(tr.children, function (cell) { return cell.textContent.trim(); });
    });
    var datasets = names.slice(1).map(function (name, index) {
      return {
        label: name,
        data: rows.map(function (row) { return Number(row[index + 1]); }),
        borderColor: COLOURS[index % COLOURS.length],
        backgroundColor: COLOURS[index % COLOURS.length],
        tension: 0
      };
    });
    new window.Chart(canvas, {
      type: 'line',
      data: { labels: rows.map(function (row) { return row[0]; }), datasets: datasets },
      options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    figure.dataset.drawn = '1';
  }

  function init() { Array.prototype.forEach.call(document.querySelectorAll('figure.chart'), draw); }
  document.addEventListener('DOMContentLoaded', init);
}());
