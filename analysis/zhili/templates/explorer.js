// Topic explorer (pyLDAvis-style), vanilla JS + inline SVG, no library and no network.
// Reads the JSON block #topic-explorer-data: {lambda, topics: [{id, label, share, x, y,
// terms: [[term, p(w|t), p(w)], ...]}]}. All text goes in through textContent, never innerHTML.
(function () {
  "use strict";
  var holder = document.getElementById("topic-explorer");
  var dataNode = document.getElementById("topic-explorer-data");
  if (!holder || !dataNode) { return; }
  var data = JSON.parse(dataNode.textContent);
  var SVG = "http://www.w3.org/2000/svg";
  var N_BARS = 30;
  var map = holder.querySelector("svg.te-map");
  var bars = holder.querySelector("svg.te-bars");
  var slider = holder.querySelector("input.te-lambda");
  var lambdaOut = holder.querySelector("output.te-lambda-value");
  var picker = holder.querySelector("select.te-picker");
  var selected = 0;
  var lambda = data.lambda;

  function node(name, attrs, parent) {
    var n = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(n); }
    return n;
  }
  function label(parent, x, y, content, attrs) {
    var t = node("text", Object.assign({ x: x, y: y }, attrs || {}), parent);
    t.textContent = content;
    return t;
  }
  function clear(svg) { while (svg.firstChild) { svg.removeChild(svg.firstChild); } }
  function topicName(t) { return "主题 " + t.id + (t.label ? " · " + t.label : ""); }

  function drawMap() {
    clear(map);
    var size = 400, pad = 55;
    map.setAttribute("viewBox", "0 0 " + size + " " + size);
    var xs = data.topics.map(function (t) { return t.x; });
    var ys = data.topics.map(function (t) { return t.y; });
    var span = Math.max(Math.max.apply(null, xs) - Math.min.apply(null, xs),
                        Math.max.apply(null, ys) - Math.min.apply(null, ys), 1e-9);
    var cx = (Math.max.apply(null, xs) + Math.min.apply(null, xs)) / 2;
    var cy = (Math.max.apply(null, ys) + Math.min.apply(null, ys)) / 2;
    var scale = (size - 2 * pad) / span;
    var maxShare = Math.max.apply(null, data.topics.map(function (t) { return t.share; })) || 1;
    node("line", { x1: size / 2, y1: 10, x2: size / 2, y2: size - 10, "class": "te-axis" }, map);
    node("line", { x1: 10, y1: size / 2, x2: size - 10, y2: size / 2, "class": "te-axis" }, map);
    label(map, size - 12, size / 2 - 4, "PC1", { "class": "te-axis-label", "text-anchor": "end" });
    label(map, size / 2 + 4, 20, "PC2", { "class": "te-axis-label" });
    data.topics.forEach(function (t, i) {
      var g = node("g", { "class": "te-topic" + (i === selected ? " te-selected" : ""), tabindex: 0 }, map);
      var x = size / 2 + (t.x - cx) * scale, y = size / 2 - (t.y - cy) * scale;
      node("circle", { cx: x, cy: y, r: 8 + 34 * Math.sqrt(t.share / maxShare) }, g);
      label(g, x, y + 5, String(t.id), { "text-anchor": "middle" });
      label(node("title", {}, g), 0, 0, topicName(t) + " (" + (100 * t.share).toFixed(1) + "%)");
      g.addEventListener("click", function () { select(i); });
      g.addEventListener("keydown", function (e) { if (e.key === "Enter") { select(i); } });
    });
  }

  function relevance(term) {
    return lambda * Math.log(term[1]) + (1 - lambda) * Math.log(term[1] / term[2]);
  }

  function drawBars() {
    clear(bars);
    var topic = data.topics[selected];
    var ranked = topic.terms.slice().sort(function (a, b) { return relevance(b) - relevance(a); }).slice(0, N_BARS);
    var row = 18, labelWidth = 120, width = 560, top = 40;
    var barWidth = width - labelWidth - 20;
    var maxOverall = Math.max.apply(null, ranked.map(function (t) { return t[2]; })) || 1;
    bars.setAttribute("viewBox", "0 0 " + width + " " + (top + row * ranked.length + 10));
    label(bars, labelWidth, 14, topicName(topic) + " — 前 " + ranked.length + " 个词 top terms by relevance", { "class": "te-title" });
    node("rect", { x: labelWidth, y: 22, width: 10, height: 10, "class": "te-overall" }, bars);
    label(bars, labelWidth + 14, 31, "整体 overall p(w)", { "class": "te-legend" });
    node("rect", { x: labelWidth + 150, y: 22, width: 10, height: 10, "class": "te-in-topic" }, bars);
    label(bars, labelWidth + 164, 31, "本主题 in topic p(t)·p(w|t)", { "class": "te-legend" });
    ranked.forEach(function (t, i) {
      var y = top + i * row;
      node("rect", { x: labelWidth, y: y, height: row - 4, width: barWidth * t[2] / maxOverall, "class": "te-overall" }, bars);
      node("rect", { x: labelWidth, y: y, height: row - 4, width: barWidth * topic.share * t[1] / maxOverall, "class": "te-in-topic" }, bars);
      label(bars, labelWidth - 6, y + row - 7, t[0], { "text-anchor": "end", "class": "te-term" });
    });
  }

  function select(i) {
    selected = i;
    picker.value = String(i);
    holder.setAttribute("data-selected", String(data.topics[i].id));
    drawMap();
    drawBars();
  }

  data.topics.forEach(function (t, i) {
    var option = document.createElement("option");
    option.value = String(i);
    option.textContent = topicName(t);
    picker.appendChild(option);
  });
  picker.addEventListener("change", function () { select(Number(picker.value)); });
  slider.value = String(lambda);
  lambdaOut.textContent = lambda.toFixed(2);
  slider.addEventListener("input", function () {
    lambda = Number(slider.value);
    lambdaOut.textContent = lambda.toFixed(2);
    drawBars();
  });
  select(0);
})();
