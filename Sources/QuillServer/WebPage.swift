/// The page `quill serve` shows at `/`: plain HTML, CSS and JavaScript in the binary, no CDN and no build step.
/// Type in the box: the ghost text is the model's continuation (Tab takes its next word, → all of it), the list its
/// suggestions with their probabilities (click one to take it); the translation pane shows the attention as a heat
/// map. docs/serve.md.
public enum WebPage {
    public static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quill</title>
<style>
  body { font: 16px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
  label { margin-right: .5rem; } select, button, input { font: inherit; }
  .editor { position: relative; margin-top: .5rem; }
  .editor textarea, .editor .ghost { font: 18px/1.5 ui-monospace, monospace; padding: .6rem; margin: 0;
    width: 100%; box-sizing: border-box; min-height: 7rem; border: 1px solid #999; border-radius: 4px;
    white-space: pre-wrap; overflow-wrap: break-word; }
  .editor .ghost { position: absolute; inset: 0; color: transparent; pointer-events: none; border-color: transparent; }
  .editor .ghost .rest { color: #9a9a9a; }
  .editor textarea { position: relative; background: transparent; resize: vertical; }
  #suggestions { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem; }
  #suggestions li { border: 1px solid #bbb; border-radius: 4px; padding: .15rem .5rem; cursor: pointer; }
  #suggestions li .p { color: #777; font-size: .85em; margin-left: .3rem; }
  .hint, #status { color: #666; font-size: .9em; }
  #translation { font-size: 1.1rem; margin: .5rem 0; }
  table.heat { border-collapse: collapse; font-size: .85rem; }
  table.heat td, table.heat th { border: 1px solid #eee; padding: .15rem .35rem; text-align: center; }
  table.heat th { font-weight: normal; color: #444; }
</style>
</head>
<body>
<h1>Quill</h1>
<p id="status">Loading the models…</p>
<section id="typing">
  <h2>Type</h2>
  <label for="lm">Model</label><select id="lm"></select>
  <span class="hint">Tab takes the next word of the grey text, → takes all of it.</span>
  <div class="editor"><div class="ghost" id="ghost" aria-hidden="true"></div>
    <textarea id="text" spellcheck="false" autocomplete="off" placeholder="Start typing…"></textarea></div>
  <ul id="suggestions" aria-label="suggestions"></ul>
</section>
<section id="translating">
  <h2>Translate</h2>
  <label for="tm">Model</label><select id="tm"></select>
  <input id="source" size="50" placeholder="One sentence">
  <button id="translate">Translate</button>
  <div id="translation"></div>
  <div id="attention"></div>
</section>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const session = "page-" + Math.random().toString(36).slice(2, 12);
let ghost = "", asked = 0, shown = 0, timer = null;

async function call(path, body) {
  const response = await fetch(path, body === undefined ? {} :
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const json = await response.json();
  if (!response.ok) throw new Error(json.error ? json.error.message : response.statusText);
  return json;
}

function escape(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function drawGhost() {
  const text = $("text").value;
  $("ghost").innerHTML = escape(text) + '<span class="rest">' + escape(ghost) + "</span>";
}

async function suggest() {
  const text = $("text").value, model = $("lm").value, n = ++asked;
  if (!model) return;
  try {
    const s = await call("/v1/suggest", { model, text, k: 5, session });
    if (n < shown || text !== $("text").value) return;  // a later keystroke has its own answer
    shown = n;
    ghost = s.continuation || "";
    drawGhost();
    $("suggestions").innerHTML = "";
    for (const item of s.suggestions) {
      const li = document.createElement("li");
      li.innerHTML = escape(item.token.trim() || item.token) + '<span class="p">' +
        (100 * item.probability).toFixed(1) + "%</span>";
      li.dataset.completion = item.completion;
      li.onclick = () => take(item.completion + (/\s$/.test(item.completion) ? "" : " "));
      $("suggestions").appendChild(li);
    }
    $("status").textContent = "";
  } catch (error) { $("status").textContent = error.message; }
}

function take(addition) {
  const box = $("text");
  box.value += addition;
  box.selectionStart = box.selectionEnd = box.value.length;
  ghost = ghost.startsWith(addition) ? ghost.slice(addition.length) : "";
  drawGhost();
  box.focus();
  suggest();
}

$("text").addEventListener("input", () => {
  ghost = "";
  drawGhost();
  clearTimeout(timer);
  timer = setTimeout(suggest, 60);
});
$("text").addEventListener("keydown", (event) => {
  const box = $("text"), atEnd = box.selectionStart === box.value.length;
  if (event.key === "Tab" && ghost && atEnd) {
    event.preventDefault();
    take(ghost.match(/^\s*[\p{L}\p{N}'’-]+|^\s*\S/u)[0]);  // a word, or one mark of punctuation
  } else if (event.key === "ArrowRight" && ghost && atEnd) {
    event.preventDefault();
    take(ghost);
  }
});

async function translate() {
  const model = $("tm").value, text = $("source").value.trim();
  if (!model || !text) return;
  try {
    const t = await call("/v1/translate", { model, text, attention: true });
    const best = t.translations[0];
    $("translation").textContent = best.text;
    const rows = best.attention || [];
    let html = '<table class="heat"><tr><th></th>' +
      t.sourceTokens.map((s) => "<th>" + escape(s.trim() ? s : "⏎") + "</th>").join("") + "</tr>";
    rows.forEach((row, i) => {
      html += "<tr><th>" + escape(best.tokens[i] || "</s>") + "</th>" + row.map((w) =>
        '<td style="background: rgba(40, 90, 200, ' + w.toFixed(3) + ')" title="' + w.toFixed(3) + '"></td>').join("") + "</tr>";
    });
    $("attention").innerHTML = html + "</table>";
    $("status").textContent = "";
  } catch (error) { $("status").textContent = error.message; }
}
$("translate").onclick = translate;
$("source").addEventListener("keydown", (event) => { if (event.key === "Enter") translate(); });

call("/v1/models").then((list) => {
  for (const m of list.models) {
    const option = document.createElement("option");
    option.value = option.textContent = m.name;
    $(m.kind === "translation" ? "tm" : "lm").appendChild(option);
  }
  $("typing").hidden = !$("lm").options.length;
  $("translating").hidden = !$("tm").options.length;
  $("status").textContent = list.models.length ? "" : "No models are served.";
  $("lm").onchange = suggest;
  suggest();
}).catch((error) => { $("status").textContent = error.message; });
</script>
</body>
</html>
"""#
}
