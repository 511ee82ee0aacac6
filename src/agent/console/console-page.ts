// The console's one page: markup, style and a small script, kept here as strings so that the
// bundle stays one file. Task output and every field a task controls reach the page only as
// text (textContent, text nodes), never as markup; the Content-Security-Policy allows this
// script and style only, by hash.
import { createHash } from 'node:crypto';

const STYLE = `
:root { color-scheme: light; --line: #d8dde3; --muted: #5b6570; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #1d232a; background: var(--bg); }
header { display: flex; gap: 16px; align-items: baseline; padding: 10px 16px; background: #1d2b3a; color: #fff; }
header h1 { margin: 0; font-size: 16px; font-weight: 600; }
#summary { color: #c9d3dd; }
#connection { margin-left: auto; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #7a4b00; }
#connection.live { background: #1d6b3a; }
main { padding: 12px 16px; }
#empty { color: var(--muted); }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fbfcfd; }
tr.task { cursor: pointer; }
tr.task:hover { background: #f1f5fa; }
td.id { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
td.message { color: var(--muted); max-width: 420px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.state { font-weight: 600; font-size: 12px; padding: 1px 6px; border-radius: 4px; background: #e6e9ed; white-space: nowrap; }
.state.TASK_RUNNING { background: #d7ecff; color: #064a85; }
.state.TASK_FINISHED { background: #d9f2e1; color: #13572c; }
.state.TASK_FAILED, .state.TASK_ERROR, .state.TASK_LOST, .state.TASK_DROPPED, .state.TASK_GONE { background: #fbdcdc; color: #8a1414; }
.state.TASK_KILLED, .state.TASK_KILLING { background: #fdebd0; color: #7a4300; }
.healthy { color: #13572c; } .unhealthy { color: #8a1414; font-weight: 600; }
button.kill { font: inherit; font-size: 12px; padding: 2px 10px; border: 1px solid #b42318; color: #b42318; background: #fff; border-radius: 4px; cursor: pointer; }
button.kill:disabled { border-color: var(--line); color: var(--muted); cursor: default; }
tr.detail > td { background: #fbfcfd; padding: 10px 12px; }
.updates { font-size: 12px; margin: 0 0 10px; border: 1px solid var(--line); }
.updates td { padding: 2px 6px; }
.logs { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.logs h3 { margin: 0 0 4px; font-size: 12px; color: var(--muted); font-weight: 600; }
pre.log { margin: 0; height: 260px; overflow: auto; padding: 6px 8px; background: #11161c; color: #d7dde4; font: 12px/1.35 ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; border-radius: 4px; }
pre.log .note { color: #f0b429; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var TERMINAL = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR'];
  var PANE_LIMIT = 256 * 1024;
  var tasks = new Map();
  var views = new Map();
  var opened = new Map();
  var pending = new Set();
  var frame = 0;
  var socket = null;
  var retries = 0;
  var table = document.getElementById('tasks');
  var connection = document.getElementById('connection');

  function text(tag, className, value) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (value !== undefined && value !== null) element.textContent = String(value);
    return element;
  }
  function clock(ms) { return ms ? new Date(ms).toLocaleTimeString() : ''; }
  function span(from, to) {
    if (!from) return '';
    var seconds = Math.max(0, Math.round(((to || Date.now()) - from) / 1000));
    return seconds < 60 ? seconds + 's' : Math.floor(seconds / 60) + 'm' + (seconds % 60) + 's';
  }
  function terminal(state) { return TERMINAL.indexOf(state) !== -1; }

  function connect() {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    socket = new WebSocket(scheme + location.host + '/console/ws');
    socket.onopen = function () {
      retries = 0;
      connection.textContent = 'live';
      connection.className = 'live';
      opened.forEach(function (panes, id) { follow(id, 'stdout'); follow(id, 'stderr'); });
    };
    socket.onmessage = function (event) { receive(JSON.parse(event.data)); };
    socket.onclose = function () {
      connection.textContent = 'reconnecting';
      connection.className = '';
      var wait = Math.min(5000, 250 * Math.pow(2, retries++));
      setTimeout(connect, wait);
    };
  }
  function send(message) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(message)); }
  function follow(id, stream) { send({ type: 'follow', taskId: id, stream: stream, from: opened.get(id)[stream].position }); }

  function receive(message) {
    if (message.type === 'tasks') {
      if (message.full) {
        var present = new Set(message.tasks.map(function (task) { return task.taskId; }));
        tasks.forEach(function (task, id) { if (!present.has(id)) { tasks.delete(id); pending.add(id); } });
      }
      message.tasks.forEach(function (task) { tasks.set(task.taskId, task); pending.add(task.taskId); });
      if (!frame) frame = requestAnimationFrame(render);
    } else if (message.type === 'output') {
      var pane = paneOf(message);
      if (!pane) return;
      var binary = atob(message.data);
      var bytes = new Uint8Array(binary.length);
      for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      append(pane, pane.decoder.decode(bytes, { stream: true }));
      pane.position = { file: message.file, offset: message.offset + bytes.length };
    } else if (message.type === 'skipped') {
      var skipped = paneOf(message);
      if (!skipped) return;
      skipped.decoder = new TextDecoder();
      note(skipped, message.bytes === null ? '[' + message.why + ']' : '[skipped ' + message.bytes + ' bytes: ' + message.why + ']');
    } else if (message.type === 'problem') {
      var troubled = paneOf(message);
      if (troubled) note(troubled, '[' + message.message + ']');
    } else if (message.type === 'killed') {
      var view = views.get(message.taskId);
      if (view && !message.ok) { view.kill.textContent = 'kill refused'; }
    } else if (message.type === 'error') {
      connection.title = message.message;
    }
  }
  function paneOf(message) { var panes = opened.get(message.taskId); return panes && panes[message.stream]; }
  function append(pane, value) {
    if (!value) return;
    var follow = pane.element.scrollTop + pane.element.clientHeight >= pane.element.scrollHeight - 4;
    pane.element.appendChild(document.createTextNode(value));
    pane.size += value.length;
    while (pane.size > PANE_LIMIT && pane.element.firstChild) {
      pane.size -= pane.element.firstChild.textContent.length;
      pane.element.removeChild(pane.element.firstChild);
    }
    if (follow) pane.element.scrollTop = pane.element.scrollHeight;
  }
  function note(pane, value) { var line = text('span', 'note', value + '\\n'); pane.element.appendChild(line); pane.size += value.length; }

  function render() {
    frame = 0;
    pending.forEach(function (id) {
      var task = tasks.get(id);
      var view = views.get(id);
      if (!task) {
        if (view) { view.body.remove(); views.delete(id); opened.delete(id); }
        return;
      }
      if (!view) view = create(task);
      update(view, task);
    });
    pending.clear();
    summarize();
  }
  function create(task) {
    var body = document.createElement('tbody');
    body.dataset.taskId = task.taskId;
    var row = text('tr', 'task');
    var view = { body: body, row: row, id: text('td', 'id', task.taskId), state: text('span', 'state'), health: text('td', 'health'),
      message: text('td', 'message'), submitted: text('td', 'time'), duration: text('td', 'time'), kill: text('button', 'kill', 'Kill'), detail: null };
    var stateCell = text('td');
    stateCell.appendChild(view.state);
    var killCell = text('td');
    killCell.appendChild(view.kill);
    [view.id, stateCell, view.health, view.message, view.submitted, view.duration, killCell].forEach(function (cell) { row.appendChild(cell); });
    body.appendChild(row);
    view.kill.addEventListener('click', function (event) {
      event.stopPropagation();
      view.kill.disabled = true;
      view.kill.textContent = 'killing';
      send({ type: 'kill', taskId: task.taskId });
    });
    row.addEventListener('click', function () { toggle(task.taskId, view); });
    var after = null;
    for (var i = 0; i < table.tBodies.length && !after; i++) {
      var other = views.get(table.tBodies[i].dataset.taskId);
      if (other && other.submittedAt <= task.submittedAt) after = table.tBodies[i];
    }
    table.insertBefore(body, after);
    view.submittedAt = task.submittedAt;
    views.set(task.taskId, view);
    return view;
  }
  function update(view, task) {
    view.state.textContent = task.state.replace('TASK_', '');
    view.state.className = 'state ' + task.state;
    view.health.textContent = task.healthy === true ? 'healthy' : task.healthy === false ? 'unhealthy' : '';
    view.health.className = 'health ' + (task.healthy === true ? 'healthy' : task.healthy === false ? 'unhealthy' : '');
    view.message.textContent = task.message || task.reason || '';
    view.message.title = task.message || '';
    view.submitted.textContent = clock(task.submittedAt);
    view.duration.textContent = span(task.runningAt, task.endedAt);
    if (terminal(task.state)) { view.kill.disabled = true; view.kill.textContent = 'Kill'; view.kill.style.visibility = 'hidden'; }
    view.task = task;
    if (view.detail) updates(view);
  }
  function toggle(id, view) {
    if (view.detail) {
      view.detail.remove();
      view.detail = null;
      opened.delete(id);
      send({ type: 'unfollow', taskId: id, stream: 'stdout' });
      send({ type: 'unfollow', taskId: id, stream: 'stderr' });
      return;
    }
    var detail = text('tr', 'detail');
    var cell = text('td');
    cell.colSpan = 7;
    var history = text('table', 'updates');
    var logs = text('div', 'logs');
    var panes = {};
    ['stdout', 'stderr'].forEach(function (stream) {
      var box = text('div');
      box.appendChild(text('h3', null, stream));
      var element = text('pre', 'log ' + stream);
      box.appendChild(element);
      logs.appendChild(box);
      panes[stream] = { element: element, decoder: new TextDecoder(), position: null, size: 0 };
    });
    cell.appendChild(history);
    cell.appendChild(logs);
    detail.appendChild(cell);
    view.body.appendChild(detail);
    view.detail = detail;
    view.history = history;
    opened.set(id, panes);
    updates(view);
    follow(id, 'stdout');
    follow(id, 'stderr');
  }
  function updates(view) {
    var history = view.history;
    while (history.firstChild) history.removeChild(history.firstChild);
    var task = view.task;
    if (task.updateCount > task.updates.length) history.appendChild(text('tr')).appendChild(text('td', null, (task.updateCount - task.updates.length) + ' earlier updates not shown'));
    task.updates.forEach(function (u) {
      var row = text('tr');
      [clock(u.timestamp), u.state, u.healthy === undefined ? '' : (u.healthy ? 'healthy' : 'unhealthy'), u.source || '', u.reason || '', u.message || ''].forEach(function (value) { row.appendChild(text('td', null, value)); });
      history.appendChild(row);
    });
  }
  function summarize() {
    var counts = {};
    tasks.forEach(function (task) { var s = task.state.replace('TASK_', '').toLowerCase(); counts[s] = (counts[s] || 0) + 1; });
    var parts = [tasks.size + (tasks.size === 1 ? ' task' : ' tasks')];
    Object.keys(counts).sort().forEach(function (s) { parts.push(counts[s] + ' ' + s); });
    document.getElementById('summary').textContent = parts.join(' \\u00b7 ');
    document.getElementById('empty').hidden = tasks.size > 0;
  }
  setInterval(function () { views.forEach(function (view) { if (view.task && !view.task.endedAt) view.duration.textContent = span(view.task.runningAt); }); }, 1000);
  connect();
})();
`;

function hash(source: string): string {
  return `'sha256-${createHash('sha256').update(source).digest('base64')}'`;
}

export const CONSOLE_CSP = `default-src 'none'; script-src ${hash(SCRIPT)}; style-src ${hash(STYLE)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local agent console</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>Local agent console</h1><span id="summary"></span><span id="connection">connecting</span></header>
<main>
<table id="tasks">
<thead><tr><th>Task</th><th>State</th><th>Health</th><th>Message</th><th>Submitted</th><th>Running for</th><th></th></tr></thead>
</table>
<p id="empty">No tasks yet.</p>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
