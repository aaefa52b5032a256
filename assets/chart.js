// Chart.js "auto" build (all controllers, scales and plugins registered),
// exposed as window.Chart for inline <script> use in Jinja templates.
import Chart from 'chart.js/auto';

window.Chart = Chart;
