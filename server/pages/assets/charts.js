// Metric charts drawn with uPlot (served from /assets/vendor/), shared by the execution and
// session pages. Points are kept per series in plain arrays, capped: when a series is full every
// other point is dropped, so a run that reports for days cannot exhaust the tab. Charts redraw
// at most about 4 times a second, however fast points arrive. Names reach the page only through
// textContent (uPlot sets its legend and title that way too).
//
// window.gbcmsChartBoard(grid, options) makes a board; window.gbcmsCharts maps each chart's key
// to its uPlot instance (tests read the points drawn from it).

(() => {
  const MAX_POINTS = 20_000;
  const REDRAW_MS = 250;
  const HEIGHT = 240;
  const COLOURS = [
    '#0969da',
    '#cf222e',
    '#1a7f37',
    '#8250df',
    '#bc4c00',
    '#0a7ea4',
    '#bf3989',
    '#6e7781',
    '#9a6700',
    '#116329',
  ];

  const AXIS = { stroke: '#57606a', grid: { stroke: '#eaeef2' }, ticks: { stroke: '#d0d7de' } };

  const charts = Object.create(null);
  window.gbcmsCharts = charts;

  class Series {
    constructor(key, name, group, colour, rank) {
      this.key = key;
      this.name = name;
      this.group = group;
      this.colour = colour;
      this.rank = rank;
      this.time = [];
      this.step = [];
      this.value = [];
    }

    push(timeSeconds, step, value) {
      if (this.value.length >= MAX_POINTS) this.halve();
      this.time.push(timeSeconds);
      this.step.push(step);
      this.value.push(value);
    }

    /** Keeps every other point: the first stays, so the curve still starts where it started. */
    halve() {
      const n = this.value.length;
      let j = 0;
      for (let i = 0; i < n; i += 2, j++) {
        this.time[j] = this.time[i];
        this.step[j] = this.step[i];
        this.value[j] = this.value[i];
      }
      this.time.length = j;
      this.step.length = j;
      this.value.length = j;
    }

    xs(mode) {
      if (mode === 'step') return this.step;
      if (mode === 'time') return this.time;
      // Seconds since the series' first point: curves of runs made at different times overlay.
      const start = this.time[0];
      return this.time.map((t) => t - start);
    }
  }

  /** uPlot takes equal x values in a row (points read from a reports file at the same moment). */
  function ascending(xs) {
    for (let i = 1; i < xs.length; i++) if (!(xs[i] >= xs[i - 1])) return false;
    return true;
  }

  /** uPlot wants one x array shared by all series: the union of their x values, gaps as null. */
  function aligned(list, mode) {
    if (list.length === 1 && ascending(list[0].xs(mode))) {
      return [list[0].xs(mode).slice(), list[0].value.slice()];
    }
    const seen = new Set();
    for (const series of list) for (const x of series.xs(mode)) seen.add(x);
    const xs = [...seen].sort((a, b) => a - b);
    const index = new Map();
    for (let i = 0; i < xs.length; i++) index.set(xs[i], i);
    const data = [xs];
    for (const series of list) {
      const ys = new Array(xs.length).fill(null);
      const own = series.xs(mode);
      for (let i = 0; i < own.length; i++) ys[index.get(own[i])] = series.value[i];
      data.push(ys);
    }
    return data;
  }

  function stepValue(_plot, value) {
    return value === null || value === undefined ? '–' : String(Number(value.toPrecision(6)));
  }

  /** A value in the legend: four significant digits, exponents for the very small and large. */
  function pointValue(_plot, value) {
    if (value === null || value === undefined) return '–';
    const size = Math.abs(value);
    if (size !== 0 && (size < 1e-3 || size >= 1e7)) return value.toExponential(3);
    return String(Number(value.toPrecision(4)));
  }

  /** Tick labels with as many decimals as the tick spacing needs (uPlot's default rounds 0.0005 to 0). */
  function tickValues(_plot, splits, _axis, _space, increment) {
    const size = Math.max(...splits.map(Math.abs));
    if (size >= 1e7 || (increment > 0 && increment < 1e-4))
      return splits.map((v) => (v === 0 ? '0' : v.toExponential(1)));
    let decimals = 0;
    while (
      decimals < 10 &&
      Math.abs(increment * 10 ** decimals - Math.round(increment * 10 ** decimals)) > 1e-6
    ) {
      decimals += 1;
    }
    return splits.map((v) =>
      v.toLocaleString('en', { minimumFractionDigits: decimals, maximumFractionDigits: decimals }),
    );
  }

  /**
   * A chart's series in legend order: by rank where add() gave one (lowest first), series
   * without a rank after those, and equal ranks in the order their first point arrived. A page
   * whose points come from answers that race (the session page asks for several executions at
   * once) ranks its series, so the legend does not depend on which answer came first.
   */
  function ordered(chart) {
    const rank = (series) => (series.rank === undefined ? Number.POSITIVE_INFINITY : series.rank);
    // sort() is stable: equal ranks keep their arrival order.
    return [...chart.series.values()].sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      return x === y ? 0 : x < y ? -1 : 1;
    });
  }

  /**
   * A grid of charts. options.title(key, series) and options.label(series, allSeries) name the
   * charts and their series; both may change as series join. options.elapsed: points without a
   * step number are drawn against the time since their series began, not the time of day.
   */
  function createBoard(grid, options) {
    const byKey = new Map();
    let timer;

    function figureFor(key) {
      for (const figure of grid.querySelectorAll('figure.chart')) {
        if (figure.dataset.chart === key) return figure;
      }
      const figure = document.createElement('figure');
      figure.className = 'chart';
      figure.dataset.chart = key;
      const caption = document.createElement('figcaption');
      const plot = document.createElement('div');
      plot.className = 'plot';
      figure.append(caption, plot);
      grid.appendChild(figure);
      return figure;
    }

    function chartFor(key) {
      let chart = byKey.get(key);
      if (chart) return chart;
      const figure = figureFor(key);
      chart = {
        key,
        figure,
        caption: figure.querySelector('figcaption'),
        target: figure.querySelector('.plot'),
        series: new Map(),
        mode: 'step',
        plot: undefined,
        rebuild: true,
        dirty: true,
      };
      byKey.set(key, chart);
      return chart;
    }

    function build(chart) {
      const list = ordered(chart);
      const labels = list.map((series) => options.label(series, list));
      chart.caption.textContent = options.title(chart.key, list);
      if (chart.plot) chart.plot.destroy();
      chart.target.replaceChildren();
      const time = chart.mode === 'time';
      const xLabel = chart.mode === 'elapsed' ? 'seconds' : chart.mode;
      chart.plot = new window.uPlot(
        {
          width: Math.max(200, chart.target.clientWidth),
          height: HEIGHT,
          scales: { x: { time } },
          series: [
            time ? { label: 'time' } : { label: xLabel, value: stepValue },
            ...list.map((series, i) => ({
              label: labels[i],
              stroke: series.colour || COLOURS[i % COLOURS.length],
              width: 1.5,
              spanGaps: true,
              value: pointValue,
            })),
          ],
          axes: [
            { ...AXIS, ...(time ? {} : { values: tickValues }) },
            { ...AXIS, values: tickValues, size: 64 },
          ],
          cursor: { drag: { x: true, y: false } },
        },
        aligned(list, chart.mode),
        chart.target,
      );
      charts[chart.key] = chart.plot;
      chart.rebuild = false;
    }

    function redraw() {
      timer = undefined;
      for (const chart of byKey.values()) {
        if (!chart.dirty) continue;
        chart.dirty = false;
        if (chart.rebuild || !chart.plot) build(chart);
        else chart.plot.setData(aligned(ordered(chart), chart.mode));
      }
    }

    function schedule() {
      if (timer === undefined) timer = setTimeout(redraw, REDRAW_MS);
    }

    if (typeof ResizeObserver === 'function') {
      let width = grid.clientWidth;
      new ResizeObserver(() => {
        if (grid.clientWidth === width) return;
        width = grid.clientWidth;
        for (const chart of byKey.values()) {
          if (chart.plot)
            chart.plot.setSize({ width: Math.max(200, chart.target.clientWidth), height: HEIGHT });
        }
      }).observe(grid);
    }

    return {
      /**
       * One point. chart/series are keys; name and group describe the series (a metric name and
       * its step, or an execution); colour and rank (its place in the legend) are optional, and
       * taken from the series' first point; time in ms; step undefined when the point has none.
       */
      add({ chart: key, series: seriesKey, name, group, colour, rank, time, step, value }) {
        const chart = chartFor(key);
        let series = chart.series.get(seriesKey);
        if (!series) {
          series = new Series(seriesKey, name, group, colour, rank);
          chart.series.set(seriesKey, series);
          chart.rebuild = true;
        }
        if (step === undefined && chart.mode === 'step') {
          // Points without a step number: every series of this chart is drawn against time.
          chart.mode = options.elapsed ? 'elapsed' : 'time';
          chart.rebuild = true;
        }
        series.push(time / 1000, step === undefined ? null : step, value);
        chart.dirty = true;
        schedule();
      },
      /** Draws what is pending now instead of at the next tick. */
      flush() {
        if (timer !== undefined) clearTimeout(timer);
        redraw();
      },
      get size() {
        return byKey.size;
      },
    };
  }

  window.gbcmsChartBoard = createBoard;
  window.gbcmsChartColours = COLOURS;
})();
