(function () {
  "use strict";
  // The page's data is JSON in #data; everything shown from it is set with textContent, never as HTML.
  var D = JSON.parse(document.getElementById("data").textContent);
  var LETTERS = ["A", "B", "C", "D"];
  var STEP = 200;
  var english = D.code === "en";
  var here = english ? ["en"] : D.translators;
  var keys = ["translator", "model", "subject", "category", "flip", "flagged", "disagree", "q"];
  var shownLimit = STEP;
  var matched = [];
  var byId = {};
  D.questions.forEach(function (q) {
    byId[q.id] = q;
    var parts = [q.id, q.subject.replace(/_/g, " ")];
    if (q.en) parts = parts.concat([q.en.q], q.en.c);
    Object.keys(q.tr).forEach(function (t) { parts = parts.concat([q.tr[t].q], q.tr[t].c); });
    q.hay = parts.join("\n").toLowerCase();
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function control(key) { return document.querySelector('[data-key="' + key + '"]'); }
  function state() {
    var s = {};
    keys.forEach(function (k) {
      var c = control(k);
      s[k] = c.type === "checkbox" ? c.checked : c.value;
    });
    return s;
  }
  function setState(s) {
    keys.forEach(function (k) {
      var c = control(k);
      if (c.type === "checkbox") c.checked = s[k] === "1" || s[k] === true;
      else if (c.tagName === "SELECT") c.value = s[k] || "";
      else c.value = s[k] || "";
      if (c.tagName === "SELECT" && c.selectedIndex < 0) c.value = "";
    });
  }
  function models(s) { return s.model ? [s.model] : D.models; }
  function texts(s) { return english ? ["en"] : (s.translator ? [s.translator] : here); }
  function ok(q, a) { return !!a && a[0] === q.gold; }

  // one (model, text) pair's outcome: null when it was not scored
  function outcome(q, m, t) {
    var a = (q.a[m] || {})[t];
    if (!a) return null;
    var en = (q.a[m] || {}).en;
    var r = {right: ok(q, a), flip: ""};
    if (!english && en) r.flip = ok(q, en) && !r.right ? "lost" : (!ok(q, en) && r.right ? "gained" : "");
    return r;
  }
  function disagree(q, ms) {
    return ms.some(function (m) {
      var seen = {};
      D.translators.forEach(function (t) { var a = (q.a[m] || {})[t]; if (a) seen[String(a[0])] = 1; });
      return Object.keys(seen).length > 1;
    });
  }
  function matches(q, s, needle) {
    if (s.subject && q.subject !== s.subject) return false;
    if (s.category && q.category !== s.category) return false;
    if (needle && q.hay.indexOf(needle) < 0) return false;
    var ms = models(s), ts = texts(s);
    if (s.flagged && !ts.some(function (t) { return q.tr[t] && q.tr[t].flags.length; })) return false;
    if (s.disagree && !disagree(q, ms)) return false;
    if (s.flip) {
      return ms.some(function (m) {
        return ts.some(function (t) { var o = outcome(q, m, t); return o && o.flip === s.flip; });
      });
    }
    return ms.some(function (m) { return ts.some(function (t) { return outcome(q, m, t); }); });
  }

  function pct(k, n) { return n ? (100 * k / n).toFixed(1) + "%" : "-"; }
  function accuracy(s) {
    var body = document.querySelector("#accuracy tbody");
    body.textContent = "";
    models(s).forEach(function (m) {
      texts(s).forEach(function (t) {
        var n = 0, right = 0, nEn = 0, rightEn = 0, lost = 0, gained = 0;
        matched.forEach(function (q) {
          var o = outcome(q, m, t);
          if (!o) return;
          n++; right += o.right;
          var en = (q.a[m] || {}).en;
          if (en) { nEn++; rightEn += ok(q, en); }
          lost += o.flip === "lost"; gained += o.flip === "gained";
        });
        if (!n) return;
        var row = el("tr");
        row.dataset.model = m; row.dataset.translator = t;
        [m, english ? "English" : t].forEach(function (x) { row.appendChild(el("td", "", x)); });
        var cells = [[pct(right, n) + " (" + right + "/" + n + ")", right / n],
                     [english ? "-" : pct(rightEn, nEn), nEn ? rightEn / nEn : ""],
                     [english ? "-" : lost, lost], [english ? "-" : gained, gained]];
        cells.forEach(function (c) { var td = el("td", "num", c[0]); td.dataset.value = c[1]; row.appendChild(td); });
        body.appendChild(row);
      });
    });
  }

  function marks(q, s) {
    var span = el("span", "marks");
    models(s).forEach(function (m) {
      var t = texts(s)[0];
      var o = outcome(q, m, t);
      if (!o) return;
      var mk = el("span", "mark " + (o.right ? "right" : "wrong") + (o.flip ? " " + o.flip : ""), o.right ? "\u2713" : "\u2717");
      mk.title = m + (english ? "" : " (" + t + ")") + ": " + (o.right ? "right" : "wrong") +
        (o.flip === "lost" ? ", right in English" : o.flip === "gained" ? ", wrong in English" : "");
      span.appendChild(mk);
    });
    return span;
  }

  function item(q, s) {
    var li = el("li"), det = el("details"), sum = el("summary");
    det.id = q.id;
    sum.appendChild(el("span", "qid", q.id));
    sum.appendChild(marks(q, s));
    var shown = (!english && q.tr[texts(s)[0]]) || q.en || {q: ""};
    sum.appendChild(el("span", "snippet", shown.q));
    det.appendChild(sum);
    det.addEventListener("toggle", function () { if (det.open && det.children.length < 2) det.appendChild(panel(q)); });
    li.appendChild(det);
    return li;
  }

  // --- a question's panel, built when it is first opened -------------------------------------------------
  function options(choices, gold) {
    var ol = el("ol", "opts");
    choices.forEach(function (c, i) {
      var li = el("li", LETTERS[i] === gold ? "gold" : "", LETTERS[i] + ") " + c);
      if (LETTERS[i] === gold) li.title = "the gold answer";
      ol.appendChild(li);
    });
    return ol;
  }
  function block(title, text, extra, gold) {
    var b = el("section", "block");
    b.appendChild(el("h3", "", title));
    (extra || []).forEach(function (x) { b.appendChild(x); });
    b.appendChild(el("div", "text question", text.q));
    b.appendChild(options(text.c, gold));
    return b;
  }
  function translation(q, t) {
    var tr = q.tr[t], extra = [];
    var lines = D.instructions[t] || {};
    Object.keys(lines).sort().forEach(function (kind) {
      var line = lines[kind][q.subject];
      if (line) extra.push(el("div", "instr", "Instruction (" + kind + "): " + line));
    });
    var b = block("Translation: " + t, tr, extra, q.gold);
    b.dataset.translator = t;
    var cut = (D.capped[t] || []).length ? " (the manifest lists only the first ids of " + D.capped[t].join(", ") + ")" : "";
    b.appendChild(el("div", "flags", tr.flags.length ? "Flagged by: " + tr.flags.join(", ") + cut
                                                       : "Flagged by no check" + cut));
    return b;
  }
  function bars(a, gold) {
    var td = el("td", "prob");
    if (!a[1]) { td.textContent = a[2] ? "error: " + a[2] : "-"; return td; }
    a[1].forEach(function (p, i) {
      var bar = el("span", "bar" + (LETTERS[i] === gold ? " gold" : "")), fill = el("span");
      fill.style.width = Math.round(100 * p) + "%";
      bar.appendChild(fill);
      var one = el("span");
      one.appendChild(document.createTextNode(LETTERS[i] + " "));
      one.appendChild(bar);
      one.appendChild(document.createTextNode((100 * p).toFixed(1) + "% "));
      td.appendChild(one);
    });
    return td;
  }
  function answers(q) {
    var table = el("table", "answers"), head = el("tr");
    ["Model", "Text", "Answer", "A / B / C / D", "Result", "Against English"].forEach(function (h) {
      var th = el("th", "", h); th.scope = "col"; head.appendChild(th);
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    D.models.forEach(function (m) {
      (english ? ["en"] : ["en"].concat(D.translators)).forEach(function (t) {
        var a = (q.a[m] || {})[t];
        if (!a) return;
        var o = outcome(q, m, t), row = el("tr");
        row.dataset.model = m; row.dataset.text = t;
        row.appendChild(el("td", "", m));
        row.appendChild(el("td", "", t === "en" ? "English" : t));
        row.appendChild(el("td", "letter", a[0] === null ? "none" : a[0]));
        row.appendChild(bars(a, q.gold));
        row.appendChild(el("td", o.right ? "right" : "wrong", o.right ? "right" : "wrong"));
        row.appendChild(el("td", "flip", t === "en" ? "" : o.flip === "lost" ? "flipped: lost"
                                            : o.flip === "gained" ? "flipped: gained" : "same as English"));
        body.appendChild(row);
      });
    });
    return table;
  }
  function panel(q) {
    var div = el("div", "body");
    var meta = el("p", "meta");
    meta.appendChild(document.createTextNode(q.subject.replace(/_/g, " ") + " \u00b7 " + q.category +
                                             " \u00b7 gold answer: "));
    meta.appendChild(el("strong", "gold-letter", q.gold));
    meta.appendChild(document.createTextNode(" \u00b7 "));
    var link = el("a", "permalink", "link to this question");
    link.href = "#" + encodeURIComponent(q.id).replace(/%2F/g, "/");
    meta.appendChild(link);
    div.appendChild(meta);
    if (q.en) {
      var en = block("English", q.en, [], q.gold);
      en.dataset.translator = "en";
      div.appendChild(en);
    } else if (!english) {
      div.appendChild(el("p", "help", "The English text is not in this results folder."));
    }
    D.translators.forEach(function (t) {
      if (q.tr[t]) div.appendChild(translation(q, t));
    });
    div.appendChild(answers(q));
    return div;
  }

  function render() {
    var s = state(), needle = s.q.trim().toLowerCase();
    matched = D.questions.filter(function (q) { return matches(q, s, needle); });
    var list = document.getElementById("list");
    list.textContent = "";
    matched.slice(0, shownLimit).forEach(function (q) { list.appendChild(item(q, s)); });
    var more = document.getElementById("more");
    more.hidden = matched.length <= shownLimit;
    more.textContent = "Show more (" + (matched.length - Math.min(shownLimit, matched.length)) + " not shown)";
    var summary = document.getElementById("summary");
    summary.textContent = matched.length + " of " + D.questions.length + " questions";
    summary.dataset.shown = matched.length;
    accuracy(s);
  }
  function toHash() {
    var s = state(), p = new URLSearchParams();
    keys.forEach(function (k) { if (s[k] === true) p.set(k, "1"); else if (s[k]) p.set(k, s[k]); });
    var h = p.toString();
    history.replaceState(null, "", h ? "#" + h : location.pathname + location.search);
  }
  function changed() { shownLimit = STEP; render(); toHash(); }

  function openQuestion(id) {
    var q = byId[id];
    if (!q) return false;
    var s = state(), needle = s.q.trim().toLowerCase();
    if (!matches(q, s, needle)) { setState({}); }
    shownLimit = Math.max(shownLimit, D.questions.length);
    render();
    var det = document.getElementById(id);
    if (!det) return false;
    det.open = true;
    if (det.children.length < 2) det.appendChild(panel(q));
    det.scrollIntoView({block: "start"});
    det.querySelector("summary").focus();
    return true;
  }
  function fromHash() {
    var h = decodeURIComponent(location.hash.slice(1));
    if (h && h.indexOf("=") < 0) { if (openQuestion(h)) return; }
    var p = new URLSearchParams(location.hash.slice(1)), s = {};
    keys.forEach(function (k) { s[k] = p.get(k) || ""; });
    setState(s);
    shownLimit = STEP;
    render();
  }

  keys.forEach(function (k) {
    var c = control(k);
    c.addEventListener(c.type === "search" ? "input" : "change", changed);
  });
  document.getElementById("f-lang").addEventListener("change", function (e) {
    var hash = location.hash;
    location.href = e.target.value + (hash && hash.indexOf("=") >= 0 ? hash : "");
  });
  document.getElementById("more").addEventListener("click", function () { shownLimit += STEP; render(); });
  document.addEventListener("keydown", function (e) {
    var t = e.target.tagName;
    if (e.key === "/" && t !== "INPUT" && t !== "SELECT" && t !== "TEXTAREA") { e.preventDefault(); control("q").focus(); }
  });
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
